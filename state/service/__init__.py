"""The conversation service: async, no Telegram. One transaction per input, data rights,
the orders a turn leaves for reminders, pacing, reload, replays of transcripts, and the
background-task helper. May import every other room of `state`.
"""
