-- PostgreSQL's counterpart of ../010_published.sql (read that first). A publication is also
-- announced with NOTIFY craftbot_curriculum in the transaction that records it, so the
-- other instances hear it when it commits (state/store/pglisten.py listens).
CREATE TABLE curriculum_published (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version      TEXT NOT NULL,
    published_at DOUBLE PRECISION NOT NULL,
    instance     TEXT NOT NULL,
    how          TEXT NOT NULL
);
CREATE INDEX curriculum_published_version ON curriculum_published (version, seq)
