"""The engine: curriculum model and validation, the state machine, and per-user progress.

Knows nothing of Telegram; `bot/` adapts updates to `state.engine.Engine` calls.
"""
