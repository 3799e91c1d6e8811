-- The webhook's inbox on PostgreSQL: the twin of ../009_inbox.sql (read that first), for
-- several instances working one inbox. Times are seconds since the epoch, from the bot's clock, as in SQLite.
CREATE TABLE inbox (
    update_id   BIGINT PRIMARY KEY,
    chat_id     BIGINT NOT NULL,
    body        TEXT,
    received_at DOUBLE PRECISION NOT NULL,
    owner       TEXT,
    lease_until DOUBLE PRECISION,
    attempts    INTEGER NOT NULL DEFAULT 0,
    handled_at  DOUBLE PRECISION
);
CREATE INDEX inbox_queued ON inbox (chat_id, update_id) WHERE handled_at IS NULL;
CREATE INDEX inbox_handled ON inbox (handled_at) WHERE handled_at IS NOT NULL;

-- Several instances working this inbox lock the heads (each chat's oldest unhandled update)
-- FOR UPDATE SKIP LOCKED in a short claim transaction and hold the chat by its lease, not a
-- row lock. That claim is not wired yet: webhook mode on PostgreSQL runs the SQLite queries
-- (state/store/inbox.py), safe for one instance only (docs/operations.md, Webhook mode).
