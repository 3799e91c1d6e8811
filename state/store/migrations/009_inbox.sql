-- The webhook's inbox (bot/ptb/webhook.py, state/store/inbox.py): every update Telegram
-- delivers is written here, and committed, before Telegram is answered 200; the bot then
-- works it from here. Each chat's updates are handled one at a time in update-id order: the
-- oldest unhandled row of a chat (its head) is leased to one worker (`owner`, `lease_until`)
-- and no other row of that chat is taken while the lease holds. `body` is the update's JSON,
-- sealed with the person's data key like other stored text (state/store/sealing.py); it is
-- overwritten with NULL once handled (secure_delete is on). The row itself stays a day, as
-- the record that this update id was handled (Telegram may deliver it again), unless the
-- person erases their data first (state/store/privacy.py).
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    body        TEXT,
    received_at REAL NOT NULL,
    owner       TEXT,
    lease_until REAL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    handled_at  REAL
);
CREATE INDEX inbox_queued ON inbox (chat_id, update_id) WHERE handled_at IS NULL;
CREATE INDEX inbox_handled ON inbox (handled_at) WHERE handled_at IS NOT NULL
