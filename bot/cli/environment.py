"""The environment variables the bot reads, described for the `--help` of the commands that read them."""

from __future__ import annotations

import textwrap

from bot.config import TOKEN_ENV
from state.service.clock import CLOCK_ENV
from state.store.crypto import KEY_ENV

MEANINGS: dict[str, str] = {
    TOKEN_ENV: "the bot's token from @BotFather (else telegram.token in the --config file)",
    KEY_ENV: "the key that encrypts what people write (make one with `craftbot keygen`);"
             " NEW,OLD while rotating keys. Unset: answers are stored unencrypted",
    CLOCK_ENV: "for end-to-end tests only: a file holding the epoch seconds the bot takes as now",
}


def environment_help(*names: str) -> str:
    """An `environment variables:` section listing `names`, for a command's --help epilog."""
    width = max(len(name) for name in names)
    lines = ["environment variables:"]
    for name in names:
        lines.extend(textwrap.wrap(MEANINGS[name], 78, initial_indent=f"  {name.ljust(width)}  ",
                                   subsequent_indent=" " * (width + 4)))
    return "\n".join(lines)
