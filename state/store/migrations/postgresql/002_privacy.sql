-- PostgreSQL's counterpart of ../002_privacy.sql: message ids and dates for /hide, never text.
CREATE TABLE recent_messages (
    user_id    BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    sent_at    DOUBLE PRECISION NOT NULL,
    from_bot   INTEGER NOT NULL,
    PRIMARY KEY (user_id, message_id)
);
CREATE INDEX recent_messages_sent ON recent_messages (sent_at)
