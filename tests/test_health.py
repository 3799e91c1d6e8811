"""/healthz, /metrics and the systemd notifications, on the real bot against the fake Bot API server.

The bot runs in this process (`InProcessBot`) with `metrics.listen` on a free port; the
tests read its endpoints over HTTP as a container's probe or Prometheus would. Healthy,
then unhealthy for each reason: the database made read-only, the database closed, the
update loop stopped. The systemd notifications go to a datagram socket the test opens.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.ops.health import HealthServer, Liveness, parse_listen
from bot.ops.systemd import notify, watchdog_seconds
from tests.kit.botapi import FakeBotApi
from tests.kit.bots import InProcessBot
from tests.kit.player import Player

USER = 4401


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    """(status, body) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus text (0 when it is not there)."""
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else "")
    for line in metrics.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return 0.0


def until(check: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def notify_socket(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A datagram socket standing in for systemd's, named in NOTIFY_SOCKET (0.4 s watchdog)."""
    folder = tempfile.mkdtemp(prefix="cb-sd-")  # short: socket paths are limited to ~100 bytes
    path = os.path.join(folder, "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.settimeout(10)
        monkeypatch.setenv("NOTIFY_SOCKET", path)
        monkeypatch.setenv("WATCHDOG_USEC", "400000")
        monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
        yield sock
    os.unlink(path)
    os.rmdir(folder)


def received(sock: socket.socket, seconds: float) -> list[str]:
    """Every datagram that arrives within `seconds`."""
    got, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    return got


def test_health_metrics_and_watchdog_follow_the_bot(tmp_path: Path, notify_socket: socket.socket) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with FakeBotApi() as server:
        bot = InProcessBot(server, tmp_path, extra_config=f"metrics:\n  listen: 127.0.0.1:{port}\n").start()
        try:
            version = bot.app.bot_data["conversations"].engine.version
            healthy = (200, f"ok\ncurriculum: serving {version}, published {version}\n")
            until(lambda: get(f"{base}/healthz") == healthy)  # published at its start: the first
            metrics = get(f"{base}/metrics")[1]
            assert sample(metrics, "craftbot_curriculum", role="served", version=version) == 1
            assert sample(metrics, "craftbot_curriculum", role="published", version=version) == 1
            assert sample(metrics, "craftbot_curriculum_behind") == 0
            assert "READY=1" in notify_socket.recv(4096).decode()
            assert "WATCHDOG=1" in received(notify_socket, 1.0)
            metrics_move_with_traffic(server, base)
            unhealthy_for_each_reason(bot, base, notify_socket)
        finally:
            bot.stop()
    assert "STOPPING=1" in "".join(received(notify_socket, 1.0))
    with pytest.raises(OSError):  # the server stopped with the bot
        urllib.request.urlopen(f"{base}/healthz", timeout=2)


def metrics_move_with_traffic(server: FakeBotApi, base: str) -> None:
    before = get(f"{base}/metrics")[1]
    player = Player(server, USER)
    player.send("/start")
    player.press("Yes, let's start")
    server.flood(USER, 1)  # the next message to the chat is refused with 429 once
    player.send("Robin")
    player.send("I want to die")
    player.inject("inject_sticker", USER)
    status, after = get(f"{base}/metrics")
    assert status == 200 and "# TYPE craftbot_reply_seconds histogram" in after

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    for kind, count in (("command", 1), ("press", 1), ("text", 2), ("other", 1), ("edit", 0)):
        assert moved("craftbot_updates_handled_total", kind=kind) == count, kind
    assert moved("craftbot_reply_seconds_count") == 5
    assert moved("craftbot_database_turn_seconds_count") == 5
    crises = [line for line in after.splitlines() if line.startswith("craftbot_crisis_interrupts_total{")]
    assert sum(float(line.split()[-1]) for line in crises) >= 1
    assert moved("craftbot_telegram_retry_after_total") == 1
    assert moved("craftbot_parked_updates_total") == 0  # (other tests in this process may park some)
    # Counts only: no person's id (as a label or word; the digits may occur inside a
    # float, "60464161944401", which is not an id) and no name.
    assert not re.search(rf"(?<![\d.e+-]){USER}(?![\d.e])", after) and "Robin" not in after


def unhealthy_for_each_reason(bot: InProcessBot, base: str, notify_socket: socket.socket) -> None:
    store = bot.app.bot_data["conversations"].store
    bot.call(lambda: store.run(lambda db: db.execute("PRAGMA query_only = 1")))
    until(lambda: get(f"{base}/healthz") == (503, "database\n"))
    bot.call(lambda: store.run(lambda db: db.execute("PRAGMA query_only = 0")))
    until(lambda: get(f"{base}/healthz")[0] == 200)

    bot.call(store.close)
    until(lambda: get(f"{base}/healthz") == (503, "database\n"))
    received(notify_socket, 0.5)  # the pings sent before it noticed
    assert "WATCHDOG=1" not in "".join(received(notify_socket, 1.0))  # unhealthy: no pings

    bot.call(bot.app.updater.stop)
    assert get(f"{base}/healthz") == (503, "polling\n")


def test_a_loop_that_has_not_fetched_lately_is_not_polling() -> None:
    now = [1000.0]

    async def fine() -> None:
        return None

    async def scenario() -> list[str | None]:
        liveness = Liveness(window=32.0, polling=lambda: True, probe=fine, clock=lambda: now[0])
        answers = [await liveness.check()]  # never fetched
        liveness.fetched()
        now[0] += 31
        answers.append(await liveness.check())
        now[0] += 2  # 33 s since the last answer to getUpdates
        answers.append(await liveness.check())
        return answers

    assert asyncio.run(scenario()) == ["polling", None, "polling"]


def test_a_probe_that_hangs_is_a_database_problem_and_other_paths_are_not_found() -> None:
    async def hangs() -> None:
        await asyncio.sleep(60)

    async def scenario() -> list[tuple[str, bytes, str]]:
        liveness = Liveness(window=30.0, polling=lambda: True, probe=hangs)
        liveness.fetched()
        server = HealthServer("127.0.0.1", 0, liveness)
        return [await server.answer("GET", "/healthz"), await server.answer("GET", "/nowhere"),
                await server.answer("POST", "/metrics")]

    health, missing, post = asyncio.run(scenario())
    assert health[:2] == ("503 Service Unavailable", b"database\n")
    assert missing[0].startswith("404") and post[0].startswith("405")


@pytest.mark.parametrize(("listen", "address"), [
    ("127.0.0.1:9464", ("127.0.0.1", 9464)), (":9464", (None, 9464)), ("[::1]:9000", ("::1", 9000)),
    ("", None), ("  ", None)])
def test_listen_addresses(listen: str, address: tuple[str | None, int] | None) -> None:
    assert parse_listen(listen) == address


def test_notify_without_systemd_does_nothing_and_with_it_sends(
        monkeypatch: pytest.MonkeyPatch, notify_socket: socket.socket) -> None:
    assert notify("READY=1") and notify_socket.recv(100) == b"READY=1"
    assert watchdog_seconds() == pytest.approx(0.2)
    monkeypatch.setenv("WATCHDOG_PID", "1")  # the watchdog is meant for another process
    assert watchdog_seconds() is None
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert not notify("READY=1")


def test_the_metrics_are_prometheus_text_from_the_library() -> None:
    from bot.ops.metrics import exposition

    body, kind = exposition()
    assert kind.startswith("text/plain; version=")
    names = {n.removesuffix("_total") for n in re.findall(r"^# TYPE (\S+)", body.decode(), re.M)}
    assert {"craftbot_updates_handled", "craftbot_reply_seconds", "craftbot_crisis_interrupts",
            "craftbot_reminders", "craftbot_telegram_errors", "craftbot_telegram_retry_after",
            "craftbot_parked_updates", "craftbot_database_turn_seconds"} <= names
