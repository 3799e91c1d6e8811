"""The bot's operations side, started after the store opens and stopped before it closes.

`Operations` runs the health and metrics server on `metrics.listen` and, under systemd,
the readiness and watchdog notifications, both from one `Liveness`. A health server that
cannot listen (the address is taken or wrong) is logged as an error and left out: the
people writing to the bot come first, and the missing /healthz shows the problem.
"""

from __future__ import annotations

import logging

from bot.ops.health import HealthServer, Liveness, parse_listen
from bot.ops.systemd import Notifier

log = logging.getLogger("craftbot.health")


class Operations:
    """The health server and the systemd notifier of one running bot."""

    def __init__(self, listen: str, liveness: Liveness) -> None:
        self.listen = listen
        self.liveness = liveness
        self.server: HealthServer | None = None
        self.notifier = Notifier(liveness)

    async def start(self) -> None:
        """Serve /healthz and /metrics (unless `listen` is empty) and notify systemd (if under it)."""
        address = parse_listen(self.listen)
        if address is not None:
            server = HealthServer(*address, self.liveness)
            try:
                await server.start()
                self.server = server
            except (OSError, OverflowError) as exc:
                log.error("cannot serve /healthz and /metrics on %s: %s", self.listen,
                          getattr(exc, "strerror", None) or type(exc).__name__)
        self.notifier.start()

    async def stop(self) -> None:
        """Stop both."""
        await self.notifier.stop()
        if self.server is not None:
            await self.server.stop()
            self.server = None
