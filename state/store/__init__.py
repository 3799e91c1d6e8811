"""Storage: the only room that imports the database driver, encryption and the JSON codec.

Progress, reminders, privacy (export, erase, expire, re-key), read-only reports, the webhook's
inbox and the numbered SQL migrations. Imports only `state.contracts`.
"""
