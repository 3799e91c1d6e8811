"""Several `craftbot run` instances on one PostgreSQL database, in webhook mode, behind one proxy.

`Fleet` starts a `RoundRobinProxy` (tests/kit/proxy.py) and `size` instances, each a
`BotProcess` with a folder, a config and a listening port of its own, all registering the
proxy's address as their webhook (as instances behind a load balancer do) and all reading the
store from the environment (`CRAFTBOT_STORAGE__URL`, `CRAFTBOT_STORAGE__KEYS_URL`, set by the
caller). The fake Bot API posts every update to the proxy, which hands it to the next instance.

`kill(i)` ends instance i with SIGKILL (a lost host); `start(i)` starts it again on the same
port; `stop()` ends them all cleanly, then the proxy.
"""

from __future__ import annotations

import signal
from pathlib import Path

from tests.kit.botapi_webhook import WebhookBotApi
from tests.kit.bots import BotProcess
from tests.kit.curricula import SAMPLE
from tests.kit.postgres import free_port
from tests.kit.proxy import RoundRobinProxy

SECRET = "scale-secret-0123456789abcdef"
HOOK_PATH = "/telegram/hook"


def webhook_lines(proxy_url: str, port: int) -> str:
    """The `telegram:` lines of one instance: the proxy's URL registered, its own port served."""
    return (f"  webhook:\n    url: {proxy_url}{HOOK_PATH}\n"
            f"    listen: 127.0.0.1:{port}\n    secret_token: {SECRET}\n")


class Fleet:
    """`size` webhook instances on one database behind a round-robin proxy (see the module's text)."""

    def __init__(self, server: WebhookBotApi, workdir: Path, size: int, *, curriculum: Path = SAMPLE,
                 extra_config: str = "") -> None:
        self.ports = [free_port() for _ in range(size)]
        self.proxy = RoundRobinProxy([f"http://127.0.0.1:{port}" for port in self.ports])
        self.proxy.__enter__()
        self.bots: list[BotProcess] = []
        for index, port in enumerate(self.ports):
            folder = workdir / f"instance-{index}"
            folder.mkdir(parents=True, exist_ok=True)
            self.bots.append(BotProcess(server, folder, curriculum, extra_config,
                                        telegram=webhook_lines(self.proxy.url, port)))

    def start(self, index: int | None = None) -> Fleet:
        """Start one instance (or all, one after the other); each returns once it set its webhook."""
        for bot in self.bots if index is None else [self.bots[index]]:
            bot.start()
        return self

    def kill(self, index: int) -> int:
        """SIGKILL one instance; its exit code."""
        return self.bots[index].stop(signal.SIGKILL)

    def logs(self) -> str:
        """Every instance's log, one after the other."""
        return "\n".join(bot.log.read_text(errors="replace") for bot in self.bots if bot.log.exists())

    def stop(self) -> list[int]:
        """Stop every running instance cleanly (SIGTERM), then the proxy; their exit codes."""
        codes = [bot.stop() for bot in self.bots if bot.proc is not None]
        self.proxy.__exit__(None, None, None)
        return codes
