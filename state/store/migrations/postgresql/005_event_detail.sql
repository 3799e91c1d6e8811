-- PostgreSQL's counterpart of ../005_event_detail.sql.
ALTER TABLE events ADD COLUMN detail TEXT
