"""Test support code: the local fake Telegram Bot API server and its helpers."""
