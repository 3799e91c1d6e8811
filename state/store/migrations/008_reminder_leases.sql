-- A claim's lease (state/store/reminders.py): who claimed a reminder and until when it is
-- theirs. On SQLite one process writes, but the same code runs on both engines: a claim is
-- taken back only once its lease ran out (or at start-up, by `recover`).
ALTER TABLE reminders ADD COLUMN claimed_by TEXT;
ALTER TABLE reminders ADD COLUMN lease_until REAL;
CREATE INDEX reminders_lease ON reminders (lease_until) WHERE status = 'sending'
