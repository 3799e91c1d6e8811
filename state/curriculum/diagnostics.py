"""Problems found in a curriculum, printed as `file:line:col: severity: message`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem at one place in one file; `severity` is "error" or "warning"."""

    file: str
    line: int
    col: int
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.severity}: {self.message}"

    @property
    def is_error(self) -> bool:
        """Whether this problem stops the curriculum from loading."""
        return self.severity == "error"


class CurriculumError(Exception):
    """A curriculum that cannot be served; carries every problem found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics)
        errors = [d for d in self.diagnostics if d.is_error]
        super().__init__(f"the curriculum has {len(errors)} error(s)")

    def report(self) -> str:
        """Every problem, one per line."""
        return "\n".join(str(d) for d in self.diagnostics)
