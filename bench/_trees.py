"""The bot as it was at another commit, for before-and-after benchmarks in one run.

Not a benchmark itself. `unpack(commit, into)` takes the repository at a commit out of git
(no worktree needed); `TreeBot` runs `craftbot run` from such a tree (or this one) with
the same interpreter, the tree's own packages first on the path, and says in its log
which it ran.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from _harness import REPO, BotUnderTest

from tests.kit.botapi_serve import WatchedBotApi


def unpack(commit: str, into: Path) -> Path:
    """The repository as it was at `commit`, in the folder `into` (made here)."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], check=True,
                             capture_output=True).stdout
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


class TreeBot(BotUnderTest):
    """`craftbot run` from a given source tree (this one, or an unpacked commit)."""

    def __init__(self, server: WatchedBotApi, tree: Path, workdir: Path, *,
                 telegram: dict[str, Any] | None = None, extra: str = "", **kwargs: Any) -> None:
        super().__init__(server, "craftbot", workdir, curriculum=tree / "curriculum",
                         telegram=telegram, **kwargs)
        self.tree = tree
        self.config.write_text(self.config.read_text() + extra)

    def command(self) -> list[str]:
        """The bot's package from `tree` first on the path; it says which in its log."""
        code = ("import runpy, sys; sys.path.insert(0, sys.argv[1]); import bot;"
                " print('craftbot from', bot.__file__, file=sys.stderr);"
                " sys.argv = ['craftbot', 'run', '--config', sys.argv[2]];"
                " runpy.run_module('bot.cli', run_name='__main__', alter_sys=True)")
        return [sys.executable, "-c", code, str(self.tree), str(self.config)]

    def ran(self) -> str:
        """Where the bot's package came from, as its log says."""
        line = next((x for x in self.log.read_text().splitlines() if "craftbot from" in x), "? ?")
        return line.split("craftbot from", 1)[-1].strip()
