"""Running the bot as a service: metrics, health, the systemd watchdog, one instance, log pseudonyms.

Nothing here imports `telegram`: the update loop, the renderer and the reminder sender
(`bot.ptb`) import the metric objects of `bot.ops.metrics` and count what they see.
"""
