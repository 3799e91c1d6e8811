"""Logging that never leaks: no token, no message text, names or answers.

The bot logs only ids, kinds and timings. httpx logs every request URL at INFO, and Bot
API URLs contain the token, so httpx is kept at WARNING and every record, traceback
included, passes through a filter that blanks the token wherever it appears.
"""

from __future__ import annotations

import json
import logging
import sys


class RedactToken(logging.Filter):
    """Replaces the bot token in a record's message and traceback."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.token:
            return True
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = message.replace(self.token, "<token>")
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        data = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                "message": record.getMessage()}
        return json.dumps(data)


def setup_logging(level: str, fmt: str, token: str) -> None:
    """Configure the root logger once at start."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
