"""Library log records without payloads: no update, request or answer ever reaches the log.

python-telegram-bot logs the parameters of every Bot API call and Telegram's answers at
DEBUG (message text, names, whole updates), its `get_updates` logs a batch it cannot parse
at CRITICAL, and httpx logs request URLs. `bot.logs` keeps those loggers above DEBUG in a
running bot; this filter holds wherever the level is set (a test at DEBUG, a developer's
console): a record from these loggers keeps its wording and loses its arguments, which is
where the payloads are. The bot's own loggers (`craftbot.*`) never log text in the first place.
"""

from __future__ import annotations

import logging

LIBRARY_LOGGERS = (
    "telegram.Bot", "telegram.ext.ExtBot", "telegram.ext.Updater", "telegram.ext.Application",
    "telegram.request.BaseRequest", "telegram.request.HTTPXRequest", "telegram.ext.AIORateLimiter",
    "httpx", "httpcore", "aiohttp.server", "aiohttp.web", "aiohttp.access",  # the webhook's server
)
WITHHELD = " [arguments withheld]"


class NoPayloads(logging.Filter):
    """Keeps a record's wording (its format string) and drops its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Strip the arguments; the record itself is kept."""
        if record.args:
            record.msg = f"{record.msg}{WITHHELD}"
            record.args = None
        return True


PAYLOAD_FILTER = NoPayloads()


def quiet_library_logs() -> None:
    """Put the filter on every library logger that can carry payloads (idempotent)."""
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if PAYLOAD_FILTER not in logger.filters:
            logger.addFilter(PAYLOAD_FILTER)
