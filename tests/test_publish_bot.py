"""Publishing through the real bot: two instances on one PostgreSQL, /reload on one, both serve it.

Two `build_application` bots run in this process (`InProcessBot`) in webhook mode against
the fake Bot API (`tests/kit/botapi_webhook.py`), sharing one PostgreSQL database (the
throwaway server of tests/kit/postgres.py) and one curriculum folder, each with its own
/healthz. An admin sends /reload; whichever instance takes it from the inbox publishes,
and both /healthz answers then name the new version as served and published.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.kit.botapi_webhook import WebhookBotApi
from tests.kit.bots import InProcessBot
from tests.kit.player import Player, texts
from tests.kit.postgres import query
from tests.test_health import get, until
from tests.test_webhook import free_port, webhook_lines

ADMIN = 4343
SAMPLE = Path(__file__).parent / "curriculum"
SERVING = re.compile(r"^curriculum: serving (\w+), published (\w+)$", re.M)


def versions(port: int) -> tuple[str, str] | None:
    """(served, published) from an instance's /healthz, or None when it is not healthy."""
    status, body = get(f"http://127.0.0.1:{port}/healthz")
    found = SERVING.search(body) if status == 200 else None
    return None if found is None else (found[1], found[2])


def test_reload_on_one_instance_is_served_by_both(pg_url: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "curriculum"
    shutil.copytree(SAMPLE, folder)
    monkeypatch.setenv("CRAFTBOT_STORAGE__URL", pg_url)  # both instances: one database
    monkeypatch.setenv("CRAFTBOT_TELEGRAM__ADMINS", f"[{ADMIN}]")
    health = [free_port(), free_port()]
    with WebhookBotApi() as server:
        bots = []
        try:
            for n, port in enumerate(health):
                workdir = tmp_path / f"instance{n}"
                workdir.mkdir()
                bots.append(InProcessBot(server, workdir, folder, telegram=webhook_lines(free_port()),
                                         extra_config=f"metrics:\n  listen: 127.0.0.1:{port}\n").start())
            until(lambda: all(versions(port) is not None for port in health))
            old = versions(health[0])
            assert old is not None and old[0] == old[1] and versions(health[1]) == old

            basics = folder / "en" / "basics.yaml"
            text = basics.read_text(encoding="utf-8")
            basics.write_text(text.replace("How stressed are you today?", "How stressed do you feel?"),
                              encoding="utf-8")
            admin = Player(server, ADMIN)
            told = texts(admin.send("/reload"))
            assert "Curriculum reloaded: version" in told and "Published: version" in told

            until(lambda: (v := versions(health[0])) is not None and v[0] != old[0]
                  and versions(health[1]) == v)  # the other heard it (NOTIFY) and serves it too
            new = versions(health[0])
            assert new is not None and new[0] == new[1]
            rows = query(pg_url, "SELECT version, how FROM curriculum_published ORDER BY seq")
            assert rows == [(old[0], "start"), (new[0], "reload")]  # the second start published nothing
        finally:
            for bot in bots:
                bot.stop()
    assert server.errors == []
