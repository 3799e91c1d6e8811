-- Which curriculum version is published: the one every instance serves (state/store/published.py).
-- One row per publication, in order (`seq`); the newest row is the published version. Who
-- published it (`instance`: host:pid:random, as in the reminder leases) and how (`reload`,
-- `hangup`, `start`) are kept for the operator; nothing about a person is. On SQLite one
-- process serves, and the table still records what it published and when.
CREATE TABLE curriculum_published (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    version      TEXT NOT NULL,
    published_at REAL NOT NULL,
    instance     TEXT NOT NULL,
    how          TEXT NOT NULL
);
CREATE INDEX curriculum_published_version ON curriculum_published (version, seq)
