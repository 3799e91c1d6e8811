"""Telling systemd the bot is ready and alive (`Type=notify`, `WatchdogSec=`), with no library.

systemd passes the path of a datagram socket in `NOTIFY_SOCKET` (a leading `@` means an
abstract socket) and, with `WatchdogSec=`, the period in `WATCHDOG_USEC` (for the process in
`WATCHDOG_PID`, when set). `Notifier` sends `READY=1` once the bot is first healthy (it has
fetched updates and the database takes a write: `bot.ops.health.Liveness`), then
`WATCHDOG=1` at half the period for as long as it stays healthy, and `STOPPING=1` at the
end. A bot that stops polling or writing sends no more pings, and systemd restarts it.
Without `NOTIFY_SOCKET` it does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from bot.ops.health import Liveness
from state.service.tasks import stop_task

log = logging.getLogger("craftbot.systemd")

READY_CHECK = 0.5  # seconds between looks for the first healthy moment


def notify(state: str) -> bool:
    """Send one state line (`READY=1`, `WATCHDOG=1` ...) to systemd; False when not under it."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:  # never blocking: a full queue on systemd's side must not stall the event loop
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.setblocking(False)
            sock.connect(address)
            sock.send(state.encode("utf-8"))
    except OSError as exc:
        log.warning("could not notify systemd: %s", type(exc).__name__)
        return False
    return True


def watchdog_seconds() -> float | None:
    """How often systemd wants a WATCHDOG=1 (half its `WatchdogSec`), or None when it does not."""
    usec, pid = os.environ.get("WATCHDOG_USEC", ""), os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid.isdigit() and int(pid) != os.getpid()):
        return None
    return int(usec) / 1e6 / 2


class Notifier:
    """READY=1 when first healthy, WATCHDOG=1 while healthy, STOPPING=1 at the end."""

    def __init__(self, liveness: Liveness) -> None:
        self.liveness = liveness
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start when systemd is listening (NOTIFY_SOCKET is set); else do nothing."""
        if os.environ.get("NOTIFY_SOCKET"):
            self._task = asyncio.create_task(self._run(), name="craftbot-systemd")

    async def stop(self) -> None:
        """Stop pinging and say the bot is stopping."""
        if self._task is not None:
            await stop_task(self._task)
            self._task = None
            notify("STOPPING=1")

    async def _run(self) -> None:
        every, ready = watchdog_seconds(), False
        while True:
            reason = await self.liveness.check()
            if reason is None and not ready:
                notify("READY=1\nSTATUS=polling for updates")
                ready = True
                if every is None:
                    return
            elif reason is None:
                notify("WATCHDOG=1")
            elif ready:
                log.warning("not healthy (%s): no watchdog ping", reason)
            await asyncio.sleep(every if ready and every is not None else READY_CHECK)
