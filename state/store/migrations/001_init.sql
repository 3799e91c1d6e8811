-- One row per family member: their progress as JSON, with copies of where they are
-- for counting without reading the JSON.
CREATE TABLE users (
    user_id    INTEGER PRIMARY KEY,
    data       TEXT NOT NULL,
    module     TEXT,
    step       TEXT,
    version    TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX users_updated ON users (updated_at);

-- Things worth counting. Never message text: kind, where, when.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    module  TEXT,
    step    TEXT,
    at      REAL NOT NULL
);
CREATE INDEX events_user ON events (user_id);
CREATE INDEX events_kind ON events (kind, at);
