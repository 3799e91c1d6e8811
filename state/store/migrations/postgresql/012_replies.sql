-- Each person's latest reply on its way out: the twin of ../012_replies.sql (read that first).
-- Times are seconds since the epoch, from the bot's clock, as in SQLite.
CREATE TABLE replies (
    user_id   BIGINT PRIMARY KEY,
    update_id BIGINT NOT NULL,
    body      TEXT,
    accepted  INTEGER NOT NULL DEFAULT 0,
    made_at   DOUBLE PRECISION NOT NULL,
    done_at   DOUBLE PRECISION
)
