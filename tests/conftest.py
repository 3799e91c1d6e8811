"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kit.botapi import FakeBotApi

# postgres, pg_url, pg_keys_url, backend: a real PostgreSQL server the tests start (tests/kit/postgres.py)
pytest_plugins = ["tests.kit.postgres"]


@pytest.fixture
def server() -> Iterator[FakeBotApi]:
    """A local Telegram Bot API server, fresh for each test."""
    with FakeBotApi() as fake:
        yield fake
