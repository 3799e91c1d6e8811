"""`python -m bot.cli`: the same as the `craftbot` command."""

from bot.cli.main import main

raise SystemExit(main())
