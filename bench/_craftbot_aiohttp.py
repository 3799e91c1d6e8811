"""`craftbot run` on the aiohttp transport (bench/_aiohttp_transport.py), for bench/transport.py.

The same start as `craftbot run` (settings, logging, curriculum, the key check), then the
same `run_bot`, given the aiohttp transport instead of python-telegram-bot's httpx one.
With `whole` as second argument the transport parses every returned Message whole, as
python-telegram-bot does; without, it keeps only their id, date and chat (`lean_results`).
Not a benchmark itself; bench/transport.py starts it.

    CRAFTBOT_TELEGRAM_TOKEN=... .venv/bin/python bench/_craftbot_aiohttp.py <config.yaml> [whole]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _aiohttp_transport import AiohttpRequest

from bot.cli.curriculum import load_engine
from bot.cli.run import hold_one_poller, key_pseudonyms
from bot.config import load_settings
from bot.logs import setup_logging
from bot.ops.instance import AlreadyRunning
from bot.ptb.app import run_bot
from bot.ptb.privacy import check_at_start


def main() -> int:
    """Run until stopped."""
    settings = load_settings(Path(sys.argv[1]))
    try:  # as `craftbot run` (bot.cli.run.cmd_run): one bot per database
        hold_one_poller(settings)
    except AlreadyRunning as exc:
        print(exc, file=sys.stderr)
        return 2
    setup_logging(settings.logging.level, settings.logging.format, settings.token)
    key_pseudonyms(settings)
    engine = load_engine(settings.curriculum.path, settings.curriculum.default_locale,
                         settings.resource_map(), settings.wording())
    if engine is None:
        return 1
    check_at_start(settings.storage.location(), settings.storage.keys())
    lean = sys.argv[2:] != ["whole"]
    transport = (AiohttpRequest(settings.telegram.concurrency, lean_results=lean),
                 AiohttpRequest(connections=1, lean_results=lean))
    return run_bot(settings, engine, transport)


if __name__ == "__main__":
    raise SystemExit(main())
