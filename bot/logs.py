"""Logging that never leaks: no token, no message text, names or answers.

The bot logs only pseudonymous ids, kinds and timings. httpx logs every request URL at
INFO, and Bot API URLs contain the token, so httpx is kept at WARNING and every record,
traceback included, passes through a filter that blanks the token (and its secret half
alone) wherever it appears. python-telegram-bot logs whole updates and request parameters,
message text included, at DEBUG, so its loggers never go below INFO, whatever the level.
An exception nobody caught is logged through the same filter rather than printed raw:
python-telegram-bot puts the token in the message of `InvalidToken`.
"""

from __future__ import annotations

import json
import logging
import sys
from types import TracebackType


class RedactToken(logging.Filter):
    """Replaces the bot token in a record's message and traceback."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        secret = token.partition(":")[2]
        self.secrets = [s for s in (token, secret) if len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        """Blank the token in the record (it is always kept, never dropped)."""
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        for secret in self.secrets:
            message = message.replace(secret, "<token>")
        record.msg = message
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
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    telegram = logging.getLogger("telegram")  # its DEBUG records carry message text
    telegram.setLevel(max(logging.INFO, root.level))
    sys.excepthook = _log_uncaught


def _log_uncaught(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
    """Report an exception nobody caught through the (redacting) log, not straight to stderr."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, trace)
        return
    logging.getLogger("craftbot").critical("stopped by an uncaught %s", kind.__name__,
                                           exc_info=(kind, error, trace))
