-- Nothing on SQLite: one process serves a SQLite file, and its outgoing budget lives in that
-- process (bot/ptb/outbox.py). PostgreSQL's 011 (postgresql/011_outbox_budget.sql) shares one
-- budget between instances. This file keeps the numbers of both folders the same.
SELECT 1
