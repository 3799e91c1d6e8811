"""The one clock everything reads: the system's, or, for tests, a file's.

Conversations, reminder planning and the reminder dispatcher all take a `Clock` (a
function returning epoch seconds). The bot and the terminal chat build theirs with
`clock_from_env`:

- normally it is `time.time`;
- when the environment variable `CRAFTBOT_FAKE_CLOCK_FILE` names a file, the clock reads
  the epoch seconds written in that file, every time it is asked. End-to-end tests start
  the real bot with it and move time by rewriting the file (write a temporary file and
  rename it over, so the bot never reads half a number); nothing sleeps. It is a test
  hook: the bot logs a warning when it is on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

Clock = Callable[[], float]
CLOCK_ENV = "CRAFTBOT_FAKE_CLOCK_FILE"


class FileClock:
    """Epoch seconds read from a file at each call (a test hook, see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> float:
        """The time written in the file."""
        text = self.path.read_text(encoding="ascii").strip()
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{CLOCK_ENV} file {self.path} must hold epoch seconds, not {text!r}") from None

    def set(self, when: float) -> None:
        """Move the clock (atomically, for a reader in another process)."""
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(repr(float(when)), encoding="ascii")
        temporary.replace(self.path)


def clock_from_env(env: Mapping[str, str] | None = None) -> Clock:
    """The file clock when `CRAFTBOT_FAKE_CLOCK_FILE` is set, else the system clock."""
    path = (os.environ if env is None else env).get(CLOCK_ENV, "").strip()
    return FileClock(Path(path)) if path else time.time


def is_fake(clock: Clock) -> bool:
    """Whether a clock is the test hook (so the bot can say so in its log)."""
    return isinstance(clock, FileClock)
