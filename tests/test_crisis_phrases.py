"""The crisis words of the bundled curriculum, measured through `craftbot safety check`.

`tests/data/crisis_phrases.txt` holds messages in crisis (with the pathway the older
detector opened, two pathways then); `tests/data/everyday_phrases.txt` holds what a worried
family member writes on an ordinary day, tricky idioms included. The real command reads
them from standard input, as a counselor would run it, and the figures are printed (run
pytest with -s to see them). The frozen held-out sets are measured in test_detector_heldout.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
CRAFTBOT = Path(sys.executable).parent / "craftbot"
MIN_CAUGHT = 0.95  # interrupt or ask
MIN_INTERRUPTED = 0.90
MAX_FALSE_INTERRUPTS = 0.02
MAX_FALSE_ASKS = 0.05


def lines(name: str) -> list[str]:
    """The messages of a data file: no blank lines, no # comments."""
    text = (DATA / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def safety_check(messages: list[str], *args: str) -> list[str]:
    """What `craftbot safety check` prints for each message."""
    done = subprocess.run([str(CRAFTBOT), "safety", "check", *args], input="\n".join(messages) + "\n",
                          capture_output=True, text=True, timeout=120, check=True)
    out = done.stdout.splitlines()
    assert len(out) == len(messages), done.stderr
    return out


@pytest.fixture(scope="module")
def crisis() -> list[tuple[str, str]]:
    pairs = [tuple(line.split(" | ", 1)) for line in lines("crisis_phrases.txt")]
    assert all(len(p) == 2 for p in pairs)
    return [(p[0], p[1]) for p in pairs]


def test_the_lists_are_big_enough(crisis: list[tuple[str, str]]) -> None:
    assert len(crisis) >= 200 and len(lines("everyday_phrases.txt")) >= 200


def test_crisis_messages_are_caught(crisis: list[tuple[str, str]]) -> None:
    got = safety_check([text for _, text in crisis])
    caught = sum(g != "none" for g in got) / len(crisis)
    interrupted = sum(g.startswith("interrupt ") for g in got) / len(crisis)
    print(f"\ncaught {caught:.3f}, interrupted {interrupted:.3f} of {len(crisis)}")
    missed = [text for g, (_, text) in zip(got, crisis, strict=True) if g == "none"]
    assert caught >= MIN_CAUGHT and interrupted >= MIN_INTERRUPTED, "\n".join(missed)


def test_false_alarms_on_everyday_messages() -> None:
    everyday = lines("everyday_phrases.txt")
    got = safety_check(everyday)
    pairs = list(zip(got, everyday, strict=True))
    interrupts = [f"{text} -> {g}" for g, text in pairs if g.startswith("interrupt")]
    asks = [f"{text} -> {g}" for g, text in pairs if g.startswith("ask")]
    print(f"\nfalse interrupts: {len(interrupts)}/{len(everyday)}, asks: {len(asks)}/{len(everyday)}")
    assert len(interrupts) / len(everyday) <= MAX_FALSE_INTERRUPTS, "\n".join(interrupts)
    assert len(asks) / len(everyday) <= MAX_FALSE_ASKS, "\n".join(asks)


def test_why_names_the_phrase_and_a_blank_line_is_none() -> None:
    out = safety_check(["He's NOT breathing!!", "", "see you tomorrow", "he overdosed once last spring",
                        "she passed out on the couch"], "--why")
    assert out == ["interrupt overdose\tnot breathing", "none", "none", "none",
                   "ask overdose\tpassed out"]


def test_another_curriculum_and_a_missing_locale(tmp_path: Path) -> None:
    locale = tmp_path / "c" / "en" / "locale.yaml"
    locale.parent.mkdir(parents=True)
    source = (Path(__file__).parent / "curriculum" / "en" / "locale.yaml").read_text(encoding="utf-8")
    locale.write_text(source.replace("        - want* to die\n", "        - pineapple\n"), encoding="utf-8")
    assert safety_check(["pineapple"], "--curriculum", str(tmp_path / "c")) == ["interrupt own_danger"]
    done = subprocess.run([str(CRAFTBOT), "safety", "check", "--locale", "xx"], input="hi\n",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no such locale" in done.stderr and done.stdout == ""
