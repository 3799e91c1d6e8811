"""`craftbot test-curriculum`: read the transcript tests beside a curriculum and replay them.

Transcript files live in `<curriculum>/<locale>/tests/*.yaml` (their format is described in
`state.service.transcripts` and docs/authoring.md). Mistakes in how a file is written are reported
like curriculum problems (`file:line:col: error: ...`); a conversation whose reply differs
from what it expects is reported as `file:line: conversation: what differs`, with what the
bot said. The exit code is 1 when anything failed, so CI can run it.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Any

from bot.cli.curriculum import load_or_report
from bot.config import BUNDLED_CURRICULUM
from state.curriculum.diagnostics import Diagnostic
from state.curriculum.model import Curriculum
from state.curriculum.yamlsource import Located, PathKey, load_located
from state.engine.engine import Engine
from state.service.transcripts import Conversation, Exchange, Outcome, run_conversations

TESTS_FOLDER = "tests"
CONVERSATION_KEYS = ("name", "start", "profile", "locale", "turns")
TURN_KEYS = ("say", "press", "command", "expect", "expect_not", "saved", "at")
ACTIONS = ("say", "press", "command")


def transcript_files(root: Path) -> list[Path]:
    """Every transcript file of a curriculum folder: `<locale>/tests/*.yaml`."""
    return sorted(root.glob(f"*/{TESTS_FOLDER}/*.yaml"))


def read_transcripts(file: Path) -> tuple[list[Conversation], list[Diagnostic]]:
    """The conversations in one transcript file, and any mistakes in how it is written."""
    located, problems = load_located(file)
    if located is None:
        return [], problems
    data = located.data
    items = data if isinstance(data, list) else [data]
    paths: list[PathKey] = [(i,) for i in range(len(items))] if isinstance(data, list) else [()]
    locale = file.parent.parent.name
    conversations = []
    for item, path in zip(items, paths, strict=True):
        found = _conversation(located, item, path, locale, problems)
        if found is not None:
            conversations.append(found)
    return conversations, problems


def _conversation(located: Located, item: Any, path: PathKey, locale: str,
                  problems: list[Diagnostic]) -> Conversation | None:
    before = len(problems)
    if not isinstance(item, dict):
        problems.append(located.diagnostic(path, "a conversation is a mapping with turns:"
                                                 " (and name:, start:, profile:)"))
        return None
    _unknown(located, item, path, CONVERSATION_KEYS, problems)
    turns_data = item.get("turns")
    if not isinstance(turns_data, list) or not turns_data:
        problems.append(located.diagnostic(path, "this conversation has no `turns:`; add a list"
                                                 " of turns (say:, press:, expect: ...)"))
        return None
    profile = item.get("profile") or {}
    if not isinstance(profile, dict):
        problems.append(located.diagnostic((*path, "profile"), "profile: is a mapping, such as"
                                                                " {relationship: partner}"))
    elif profile and not item.get("start"):
        problems.append(located.diagnostic((*path, "profile"), "a profile needs start: (a brand-new"
                                                                " user has answered nothing yet)"))
    turns = [_exchange(located, t, (*path, "turns", i), problems) for i, t in enumerate(turns_data)]
    if len(problems) > before:
        return None
    line = located.where(path)[0]
    name = str(item.get("name") or f"conversation at line {line}")
    start = str(item["start"]) if item.get("start") else None
    return Conversation(located.file, line, name, str(item.get("locale") or locale), start,
                        profile if isinstance(profile, dict) else {},
                        tuple(t for t in turns if t is not None))


def _exchange(located: Located, item: Any, path: PathKey,
              problems: list[Diagnostic]) -> Exchange | None:
    if not isinstance(item, dict):
        problems.append(located.diagnostic(path, "a turn is a mapping: say:, press: or command:,"
                                                 " then expect:, saved:, at:"))
        return None
    _unknown(located, item, path, TURN_KEYS, problems)
    actions = [a for a in ACTIONS if a in item]
    if len(actions) > 1:
        problems.append(located.diagnostic(path, "a turn does one thing: say:, press: or command:"
                                                 f" (found {', '.join(actions)}); split it in two"))
    if not actions and not any(k in item for k in TURN_KEYS):
        problems.append(located.diagnostic(path, "this turn is empty; give say:, press: or command:,"
                                                 " or a check such as expect:"))
    texts = {key: _texts(located, item.get(key), (*path, key), problems)
             for key in ("expect", "expect_not")}
    saved = item.get("saved") or {}
    if not isinstance(saved, dict):
        problems.append(located.diagnostic((*path, "saved"), "saved: is a mapping of answer keys"
                                                              " to values, such as {tone: kind}"))
        saved = {}
    action = actions[0] if actions else None
    value = item.get(action) if action else ""
    if action and not isinstance(value, str | int):
        problems.append(located.diagnostic((*path, action), f"{action}: takes one text"))
    lines = {key: located.where((*path, key))[0] for key in item}
    for key in ("expect", "expect_not"):
        lines.update({f"{key}.{i}": located.where((*path, key, i))[0] for i in range(len(texts[key]))})
    lines.update({f"saved.{k}": located.where((*path, "saved", k), key=True)[0] for k in saved})
    return Exchange(located.where(path)[0], action, str(value).lstrip("/") if action == "command"
                    else str(value), texts["expect"], texts["expect_not"], saved,
                    str(item["at"]) if item.get("at") is not None else None, lines)


def _texts(located: Located, value: Any, path: PathKey, problems: list[Diagnostic]) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str | int | float) and str(v).strip() for v in items):
        problems.append(located.diagnostic(path, f"{path[-1]}: takes a text or a list of texts"))
        return ()
    return tuple(str(v) for v in items)


def _unknown(located: Located, item: dict[str, Any], path: PathKey, allowed: tuple[str, ...],
             problems: list[Diagnostic]) -> None:
    for key in item:
        if key not in allowed:
            guess = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean '{guess[0]}'?" if guess else "the keys are: " + ", ".join(allowed)
            problems.append(located.diagnostic((*path, key), f"unknown key '{key}'; {hint}", key=True))


# -- the command -----------------------------------------------------------------------------


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `craftbot test-curriculum` on the `craftbot` parser."""
    test = sub.add_parser("test-curriculum", help="replay the transcript tests beside a curriculum",
                          description="Replay every conversation in <curriculum>/<locale>/tests/*.yaml"
                          " through the real engine; report each difference as file:line.")
    test.add_argument("--curriculum", type=Path, default=None, help="curriculum folder")
    test.add_argument("files", nargs="*", type=Path, help="only these transcript files")
    test.add_argument("--quiet", action="store_true", help="print failures only")


def run(args: argparse.Namespace) -> int:
    """Replay the transcripts; print failures and a summary; 1 if anything failed."""
    root = args.curriculum or BUNDLED_CURRICULUM
    curriculum = load_or_report(root)
    if curriculum is None:
        return 1
    files = [_shown(file) for file in (list(args.files) or transcript_files(root))]
    if not files:
        print(f"craftbot: no transcript tests in {root}/<locale>/{TESTS_FOLDER}/; see"
              " docs/authoring.md to write one", file=sys.stderr)
        return 1
    conversations: list[Conversation] = []
    problems: list[Diagnostic] = []
    for file in files:
        found, wrong = read_transcripts(file)
        problems.extend(wrong)
        for conversation in found:
            if conversation.locale in curriculum.locales:
                conversations.append(conversation)
            else:
                problems.append(Diagnostic(str(file), conversation.line, 1, "error",
                                           f"no locale '{conversation.locale}' in {root}"))
    outcomes = run_conversations(Engine(curriculum), conversations)
    for problem in problems:
        print(problem)
    failures = [failure for outcome in outcomes for failure in outcome.failures]
    for failure in failures:
        print(f"{failure}\n")
    _print_summary(args, curriculum_modules(curriculum), outcomes, len(files), len(problems))
    return 1 if failures or problems else 0


def _shown(path: Path) -> Path:
    """A path relative to the working folder when it lies inside it, for short messages."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def curriculum_modules(curriculum: Curriculum) -> dict[str, list[str]]:
    """Each locale's module ids."""
    return {code: sorted(content.modules) for code, content in curriculum.locales.items()}


def _print_summary(args: argparse.Namespace, modules: dict[str, list[str]], outcomes: list[Outcome],
                   files: int, problems: int) -> None:
    failed = sum(1 for o in outcomes if o.failures)
    turns = sum(o.turns for o in outcomes)
    visited = {m for o in outcomes for m in o.modules}
    untested = sorted({m for ids in modules.values() for m in ids} - visited)
    if untested and not args.quiet:
        print("no transcript reaches: " + ", ".join(untested))
    counts = f"{len(outcomes)} conversation(s), {turns} turn(s) in {files} file(s)"
    if failed or problems:
        mistakes = f"; {problems} mistake(s) in how the files are written" if problems else ""
        print(f"FAILED: {failed} of {counts}{mistakes}", file=sys.stderr)
    else:
        print(f"ok: {counts}")
