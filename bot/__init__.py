"""The doors people come in by: Telegram, the terminal chat, and the `craftbot` command.

    ptb/        the only importer of `telegram`: the application, its handlers, the updater,
                the reminder sender, admin commands
    cli/        the `craftbot` command, one module per group of subcommands
    documents/  `craftbot graph` and `craftbot book`
    terminal    the terminal chat
    config, logs  settings and logging, read once at the edge

`bot` may import anything in `state`; nothing in `state` imports `bot`.
"""
