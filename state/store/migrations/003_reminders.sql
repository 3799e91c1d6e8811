-- Messages the bot sends unasked: homework check-ins, check-ins, the one nudge. Times are
-- UTC epoch seconds, already moved out of the person's quiet hours. `ref` says what a
-- reminder is about in ids only (a module id, a module:step position), never text.
-- status: pending -> sending (claimed by the dispatcher) -> sent | skipped | failed, or
-- cancelled / superseded. A claim still 'sending' after a crash goes back to 'pending' at
-- start-up: a reminder is never lost, and at most one is sent twice.
-- `follow_due` is the next check-in, scheduled in the same transaction that marks this
-- one sent.
CREATE TABLE reminders (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    due_at     REAL NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending',
    ref        TEXT NOT NULL DEFAULT '',
    follow_due REAL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    claimed_at REAL,
    done_at    REAL
);
CREATE INDEX reminders_due ON reminders (status, due_at);
CREATE INDEX reminders_user ON reminders (user_id, kind, status);
-- At most one waiting reminder of each kind per person: planning again moves it.
CREATE UNIQUE INDEX reminders_one_pending ON reminders (user_id, kind) WHERE status = 'pending';

-- Check-ins: numbers and choices only, never typed text. `day` is the local date.
-- sober_days and rewards count over `period_days` (1 for a daily check-in, 7 otherwise).
CREATE TABLE checkins (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL,
    at            REAL NOT NULL,
    day           TEXT NOT NULL,
    period_days   INTEGER NOT NULL,
    stress        INTEGER,
    sober_days    INTEGER,
    rewards       INTEGER,
    loved_one_day TEXT
);
CREATE INDEX checkins_user ON checkins (user_id, at);

-- People Telegram will not let the bot reach (they blocked it, or left Telegram): no
-- reminder is planned or retried for them until they write again.
CREATE TABLE unreachable (
    user_id INTEGER PRIMARY KEY,
    since   REAL NOT NULL
);
