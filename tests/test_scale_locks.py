"""Webhook instances share the "poller" lock; a poller holds it alone (bot/cli/run.py).

Any number of webhook instances serve one PostgreSQL inbox together, but a polling instance
beside them would delete their webhook (and they would take its updates), so each kind keeps
the other out: the webhook instances hold the advisory lock shared, the poller exclusively.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from state.store.postgres import Locks, PgOpener


@pytest.fixture
def sessions(pg_url: str) -> Iterator[list[Locks]]:
    held = [Locks(PgOpener(pg_url)) for _ in range(3)]
    yield held
    for locks in held:
        locks.release_all()
        locks.opener.close_pool()


def test_webhook_instances_hold_the_lock_together_and_keep_a_poller_out(sessions: list[Locks]) -> None:
    first, second, poller = sessions
    assert first.hold("poller", shared=True) and second.hold("poller", shared=True)
    assert not poller.hold("poller")  # a poller beside webhook instances is refused
    first.release_all()
    second.release_all()
    assert poller.hold("poller")  # once they are gone it may poll


def test_a_poller_keeps_webhook_instances_out(sessions: list[Locks]) -> None:
    poller, instance, _ = sessions
    assert poller.hold("poller")
    assert not instance.hold("poller", shared=True)
