-- The one nudge for someone who stopped mid-module lives on their own row, written with
-- their progress at no extra cost; `ReminderStore.release_nudges` moves it into
-- `reminders` when it falls due. Nudges already waiting move over to the new columns.
ALTER TABLE users ADD COLUMN nudge_due REAL;
ALTER TABLE users ADD COLUMN nudge_ref TEXT;
CREATE INDEX users_nudge ON users (nudge_due) WHERE nudge_due IS NOT NULL;
UPDATE users SET (nudge_due, nudge_ref) = (SELECT r.due_at, r.ref FROM reminders AS r
    WHERE r.user_id = users.user_id AND r.kind = 'nudge' AND r.status = 'pending');
UPDATE reminders SET status = 'superseded' WHERE kind = 'nudge' AND status = 'pending';
