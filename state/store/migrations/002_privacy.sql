-- Ids and dates of the messages of the last 48 hours in each private chat (the chat id of a
-- private chat is the user's id), so /hide can delete them: Telegram lets a bot delete a
-- message only while it is under 48 hours old. Never text. Older rows are pruned.
CREATE TABLE recent_messages (
    user_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    sent_at    REAL NOT NULL,
    from_bot   INTEGER NOT NULL,
    PRIMARY KEY (user_id, message_id)
) WITHOUT ROWID;
CREATE INDEX recent_messages_sent ON recent_messages (sent_at);
