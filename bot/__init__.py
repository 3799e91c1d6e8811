"""The doors people come in by: Telegram, the terminal chat, and the `craftbot` command."""
