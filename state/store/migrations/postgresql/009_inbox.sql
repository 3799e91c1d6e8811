-- The webhook's inbox on PostgreSQL: the twin of ../009_inbox.sql (read that first), for
-- several instances working one inbox. Times are seconds since the epoch, from the bot's
-- clock, as in SQLite. state/store/inbox.py calls inbox_claim and inbox_done on a
-- connection that is not SQLite's.
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

-- Lease the heads (each chat's oldest unhandled update) of up to `wanted` chats nobody
-- holds. The heads are locked FOR UPDATE SKIP LOCKED only for this short transaction, so
-- two instances claiming at once skip each other's candidates instead of waiting; what
-- then holds the chat while its update is handled is the lease (owner, lease_until), not a
-- row lock: no transaction stays open across a Telegram call. A head whose lease another
-- instance wrote meanwhile is re-checked on the locked row (READ COMMITTED re-evaluates
-- the lease condition on the newest version) and left out.
CREATE FUNCTION inbox_claim(who TEXT, now DOUBLE PRECISION, until DOUBLE PRECISION, wanted INTEGER)
RETURNS SETOF inbox LANGUAGE sql AS $$
    WITH heads AS (
        SELECT i.update_id FROM inbox AS i
        WHERE i.handled_at IS NULL
          AND (i.lease_until IS NULL OR i.lease_until < now)
          AND NOT EXISTS (SELECT 1 FROM inbox AS e WHERE e.chat_id = i.chat_id
                          AND e.handled_at IS NULL AND e.update_id < i.update_id)
        ORDER BY i.update_id
        LIMIT wanted
        FOR UPDATE OF i SKIP LOCKED
    )
    UPDATE inbox SET owner = who, lease_until = until, attempts = inbox.attempts + 1
    FROM heads WHERE inbox.update_id = heads.update_id
    RETURNING inbox.*
$$;

-- Mark an update handled (its sealed JSON dropped) and lease its chat's next update to the
-- same owner when nobody holds it, in one statement (the `done` of state/storage.py; one
-- statement, as the migration runner splits files at semicolons). The next update is taken
-- only if it is the chat's head: a head locked by another instance's claim is skipped, and
-- with it the chat, never passed over for the update behind it.
CREATE FUNCTION inbox_done(who TEXT, handled BIGINT, now DOUBLE PRECISION, until DOUBLE PRECISION)
RETURNS SETOF inbox LANGUAGE sql AS $$
    WITH finished AS (
        UPDATE inbox SET handled_at = now, body = NULL, owner = NULL, lease_until = NULL
        WHERE update_id = handled
        RETURNING chat_id
    ), head AS (
        SELECT n.update_id FROM inbox AS n JOIN finished AS f ON n.chat_id = f.chat_id
        WHERE n.handled_at IS NULL AND n.update_id <> handled
          AND NOT EXISTS (SELECT 1 FROM inbox AS e WHERE e.chat_id = n.chat_id AND e.handled_at IS NULL
                          AND e.update_id < n.update_id AND e.update_id <> handled)
        ORDER BY n.update_id
        LIMIT 1
        FOR UPDATE OF n SKIP LOCKED
    )
    UPDATE inbox SET owner = who, lease_until = until, attempts = inbox.attempts + 1
    FROM head WHERE inbox.update_id = head.update_id
      AND (inbox.lease_until IS NULL OR inbox.lease_until < now)
    RETURNING inbox.*
$$
