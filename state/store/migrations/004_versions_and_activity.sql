-- Every step of every curriculum version the bot has served, as a fingerprint (a hash of
-- what the step says and does). Comparing a user's version with a new one tells whether
-- the step they are on changed (see state/versions.py and craftbot validate --against).
CREATE TABLE curriculum_steps (
    version     TEXT NOT NULL,
    locale      TEXT NOT NULL,
    module      TEXT NOT NULL,
    step        TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (version, locale, module, step)
) WITHOUT ROWID;

-- How many different people used the bot in each ISO week (UTC), counted as they come.
-- users.active_week is the last week a person was counted in, so nobody counts twice in
-- a week and no history of anyone's visits is kept: only the weekly totals.
CREATE TABLE weekly_active (
    week  TEXT PRIMARY KEY,
    users INTEGER NOT NULL
) WITHOUT ROWID;
ALTER TABLE users ADD COLUMN active_week TEXT;
