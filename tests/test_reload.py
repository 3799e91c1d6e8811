"""Publishing a changed curriculum to a running service: nobody is stranded, nothing breaks.

These drive the real `Conversations` over a real SQLite file and reload with the real
`Reloader`, as the bot does on SIGHUP or /reload; `test_reload_bot.py` does the same
through the real bot process, and `test_reload_cli.py` checks `validate --against`.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from state.contracts import Command, Press, Reply, TextIn
from state.curriculum.loader import load_curriculum, read_curriculum
from state.curriculum.markup import to_plain
from state.engine.engine import Engine
from state.service.conversations import Conversations
from state.service.reload import Reloader, record_served
from state.store.progress import SqliteProgressStore

SAMPLE = Path(__file__).parent / "curriculum"
USER = 7001


class Clock:
    """A clock that moves a minute per reading."""

    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        self.now += 60
        return self.now


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "curriculum"
    shutil.copytree(SAMPLE, target)
    return target


@pytest.fixture
async def service(folder: Path, tmp_path: Path) -> AsyncIterator[Conversations]:
    store = await SqliteProgressStore(tmp_path / "db.sqlite3").open()
    conversations = Conversations(Engine(load_curriculum(folder)), store, clock=Clock())
    await record_served(conversations)
    yield conversations
    await store.close()


def said(reply: Reply | None) -> str:
    assert reply is not None
    return "\n".join(to_plain(m.html) for m in reply.messages)


def buttons(reply: Reply | None) -> dict[str, str]:
    """Label -> callback data of every button in a reply."""
    assert reply is not None
    return {b.label: b.data for m in reply.messages for row in m.buttons for b in row}


async def onboard(service: Conversations) -> Reply | None:
    """Finish the sample onboarding; return the reply offering the next module."""
    send = service.handle
    await send(USER, Command("start"))
    progress = await service.store.load(USER)
    assert progress is not None
    await send(USER, Press(f"o:{progress.seq}:0"))  # Yes, let's start
    reply = await send(USER, TextIn("Sam"))
    for label in ("My partner", "Alcohol", "No", "No", "No"):
        reply = await send(USER, Press(buttons(reply)[label]))
    assert "“Getting started”" in said(reply)
    return reply


def edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / "en" / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def remove_step(folder: Path, name: str, step_id: str) -> None:
    """Delete one step (from its `- id:` line to the next step) from a module file."""
    path = folder / "en" / name
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"  - id: {step_id}\n(?:(?!  - id: ).*\n)*")
    assert pattern.search(text), step_id
    path.write_text(pattern.sub("", text, count=1), encoding="utf-8")


async def test_an_invalid_curriculum_is_refused_and_the_old_one_keeps_serving(
        service: Conversations, folder: Path) -> None:
    reply = await onboard(service)
    reply = await service.handle(USER, Press(buttons(reply)["Next: Basics"]))
    old_version = service.engine.version
    edit(folder, "basics.yaml", "How stressed are you today?", "NEW WORDING")
    edit(folder, "basics.yaml", "next: pick", "next: pikc")

    outcome = await Reloader(service, folder).reload()

    assert not outcome.ok and service.engine.version == old_version
    lines = outcome.problem_lines(errors_only=True)
    assert any(re.fullmatch(r"en/basics\.yaml:\d+:\d+: error: unknown step 'pikc'.*", line)
               for line in lines), lines
    reply = await service.handle(USER, Press(buttons(reply)["Ready"]))
    assert "How stressed are you today?" in said(reply) and "NEW WORDING" not in said(reply)


async def test_a_removed_step_sends_people_where_moves_yaml_says_and_tells_them(
        service: Conversations, folder: Path) -> None:
    reply = await onboard(service)
    reply = await service.handle(USER, Press(buttons(reply)["Next: Basics"]))
    reply = await service.handle(USER, Press(buttons(reply)["Ready"]))
    assert "How stressed" in said(reply)
    scale = buttons(reply)
    remove_step(folder, "basics.yaml", "mood")
    edit(folder, "basics.yaml", "next: mood", "next: pick")
    (folder / "en" / "moves.yaml").write_text("basics:\n  mood: pick\n", encoding="utf-8")

    outcome = await Reloader(service, folder).reload()
    assert outcome.ok, outcome.problem_lines()
    assert service.engine.version == outcome.new_version != outcome.old_version

    reply = await service.handle(USER, Press(scale["7"]))  # a button of the removed step
    text = said(reply)
    assert "We've updated “Basics”" in text and "Which sounds kinder?" in text
    progress = await service.store.load(USER)
    assert progress is not None
    assert (progress.module, progress.step) == ("basics", "pick")
    assert "stress" not in progress.answers  # the old button did not answer anything
    assert progress.version == outcome.new_version
    reply = await service.handle(USER, Press(buttons(reply)["I'd love your help"]))
    assert "positive and specific" in said(reply)  # and the new step works as usual


async def test_without_a_mapping_people_restart_the_module_and_a_removed_module_leads_to_the_menu(
        service: Conversations, folder: Path) -> None:
    reply = await onboard(service)
    reply = await service.handle(USER, Press(buttons(reply)["Next: Basics"]))
    reply = await service.handle(USER, Press(buttons(reply)["Ready"]))
    remove_step(folder, "basics.yaml", "mood")
    edit(folder, "basics.yaml", "next: mood", "next: pick")
    assert (await Reloader(service, folder).reload()).ok

    reply = await service.handle(USER, TextIn("5"))
    text = said(reply)
    assert "let's begin it again from the start" in text and "Welcome to the basics" in text

    (folder / "en" / "basics.yaml").unlink()
    edit(folder, "next.yaml", "requires: [basics]", "requires: []")
    assert (await Reloader(service, folder).reload()).ok
    reply = await service.handle(USER, Command("start"))
    text = said(reply)
    assert "has been retired since you were last here" in text and "Next up:" in text
    assert "Next steps" in " ".join(buttons(reply))


async def test_a_changed_step_retires_the_buttons_already_shown(
        service: Conversations, folder: Path) -> None:
    reply = await onboard(service)
    reply = await service.handle(USER, Press(buttons(reply)["Next: Basics"]))
    reply = await service.handle(USER, Press(buttons(reply)["Ready"]))
    reply = await service.handle(USER, Press(buttons(reply)["3"]))
    assert "Which sounds kinder?" in said(reply)
    old_buttons = buttons(reply)
    # The counselor swaps the two options: the first button now means the other answer.
    text = (folder / "en" / "basics.yaml").read_text(encoding="utf-8")
    harsh = text[text.index('      - label: "You never help"'):text.index('      - label: "I\'d love')]
    kind = text[text.index('      - label: "I\'d love'):text.index("  - id: trigger")]
    (folder / "en" / "basics.yaml").write_text(text.replace(harsh + kind, kind + harsh),
                                               encoding="utf-8")
    assert (await Reloader(service, folder).reload()).ok

    reply = await service.handle(USER, Press(old_buttons["You never help"]))
    assert "from an earlier step" in said(reply) and "Which sounds kinder?" in said(reply)
    progress = await service.store.load(USER)
    assert progress is not None and progress.step == "pick" and "tone" not in progress.answers
    reply = await service.handle(USER, Press(buttons(reply)["You never help"]))
    assert "sound like blame" in said(reply)


async def test_an_unchanged_step_keeps_its_buttons_across_a_reload(
        service: Conversations, folder: Path) -> None:
    reply = await onboard(service)
    reply = await service.handle(USER, Press(buttons(reply)["Next: Basics"]))
    edit(folder, "basics.yaml", "That's the basics done.", "That's the basics, done!")
    assert (await Reloader(service, folder).reload()).ok
    reply = await service.handle(USER, Press(buttons(reply)["Ready"]))
    assert "How stressed" in said(reply)


def test_moves_yaml_is_validated_with_file_line_and_column(folder: Path) -> None:
    (folder / "en" / "moves.yaml").write_text(
        "basics:\n  gone: nowhere\n  intro: quiz\n  old: next:hello\nretired:\n  x: pick\n",
        encoding="utf-8")
    _, problems = read_curriculum(folder)
    found = {(Path(p.file).name, p.line, p.col, p.severity): p.message for p in problems}
    assert "unknown step 'nowhere'" in found[("moves.yaml", 2, 9, "error")]
    assert "still exists" in found[("moves.yaml", 3, 3, "warning")]
    assert ("moves.yaml", 4, 8, "error") not in found  # another module's step is fine
    assert "write the target as module:step" in found[("moves.yaml", 6, 6, "error")]


async def test_many_errors_are_told_in_messages_that_fit_telegram(
        service: Conversations, folder: Path) -> None:
    from bot.ptb.admin import outcome_lines, split_lines

    steps = "".join(f"  - id: s{i}\n    kind: message\n    text: \"Step {i}\"\n    next: nowhere_{i}\n"
                    for i in range(80))
    (folder / "en" / "many.yaml").write_text(
        "id: many\ntitle: Many\ndescription: Many broken steps.\norder: 9\nminutes: 5\nsteps:\n"
        + steps + "  - id: done\n    kind: end\n", encoding="utf-8")
    outcome = await Reloader(service, folder).reload()
    assert not outcome.ok and len(outcome.errors) >= 80
    messages = split_lines(outcome_lines(outcome, None))
    assert len(messages) >= 2 and all(len(m) <= 4096 for m in messages)
    told = "\n".join(messages)
    assert "en/many.yaml:10:11: error: unknown step 'nowhere_0'" in told
    assert re.search(r"\.\.\. and \d+ more: run craftbot validate", told)
