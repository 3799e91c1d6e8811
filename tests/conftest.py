"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kit.botapi import FakeBotApi


@pytest.fixture
def server() -> Iterator[FakeBotApi]:
    """A local Telegram Bot API server, fresh for each test."""
    with FakeBotApi() as fake:
        yield fake
