-- PostgreSQL's counterpart of ../004_versions_and_activity.sql.
CREATE TABLE curriculum_steps (
    version     TEXT NOT NULL,
    locale      TEXT NOT NULL,
    module      TEXT NOT NULL,
    step        TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (version, locale, module, step)
);
CREATE TABLE weekly_active (
    week  TEXT PRIMARY KEY,
    users INTEGER NOT NULL
);
ALTER TABLE users ADD COLUMN active_week TEXT
