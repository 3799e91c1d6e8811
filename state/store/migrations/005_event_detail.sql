-- Which crisis pathway an interrupt took (a pathway name, never message text).
ALTER TABLE events ADD COLUMN detail TEXT;
