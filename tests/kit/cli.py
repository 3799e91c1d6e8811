"""The real `craftbot` command line, run as a user runs it, for tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def craftbot(*args: object, env: Mapping[str, str] | None = None, stdin: str = "", cwd: Path = REPO,
             timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run `craftbot ARGS` in a new interpreter; stdin is closed after `stdin` unless given."""
    return subprocess.run([sys.executable, "-m", "bot.cli", *map(str, args)], cwd=cwd, input=stdin,
                          env=None if env is None else dict(env), capture_output=True, text=True,
                          timeout=timeout)
