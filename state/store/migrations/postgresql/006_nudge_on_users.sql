-- PostgreSQL's counterpart of ../006_nudge_on_users.sql (no nudges to move: PostgreSQL
-- stores began after it).
ALTER TABLE users ADD COLUMN nudge_due DOUBLE PRECISION;
ALTER TABLE users ADD COLUMN nudge_ref TEXT;
CREATE INDEX users_nudge ON users (nudge_due) WHERE nudge_due IS NOT NULL
