-- A claim's lease (state/store/reminders.py): who claimed a reminder and until when it is
-- theirs. Several instances share the database: a claim is taken back only once its lease
-- ran out, never from an instance still sending it.
ALTER TABLE reminders ADD COLUMN claimed_by TEXT;
ALTER TABLE reminders ADD COLUMN lease_until DOUBLE PRECISION;
CREATE INDEX reminders_lease ON reminders (lease_until) WHERE status = 'sending'
