"""Storage: the only room that imports the database drivers, encryption and the JSON codec.

Progress, reminders, privacy (export, erase, expire, re-key), read-only reports, the webhook's
inbox and the numbered SQL migrations, on SQLite (`sqlite3`, the default) or PostgreSQL
(psycopg, only in `postgres` and `pgkeys`, imported only when a store is on PostgreSQL);
`dialect` holds what the two say differently. Imports only `state.contracts` and
`state.storage`.
"""
