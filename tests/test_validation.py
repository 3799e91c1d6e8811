"""Curriculum validation: every mistake is reported once, at its place, saying how to fix it.

Each case below is the sample curriculum (`tests/curriculum`) with one defect, written to a
real folder under `tmp_path` and read back with `read_curriculum`. The cases are made from
the live sample (not frozen copies) so that a new ui text or step added to the sample flows
into every case; an edit whose anchor text has gone fails loudly and names the case.

Each case lists every diagnostic expected: file, severity, the text the diagnostic points at
(its first character gives the expected line and column), what is wrong and how to fix it.
"Every" matters: a typo in one `next` must not also flag every step after it, and a module
with a mistake must not make every module that requires it look wrong too.

To look at the cases by hand: `python -m tests.test_validation /tmp/broken`, then
`craftbot validate /tmp/broken/unknown_next`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from state.curriculum.diagnostics import CurriculumError, Diagnostic
from state.curriculum.loader import load_curriculum, read_curriculum
from state.curriculum.schema import BranchStep, ChoiceStep, QuizStep

SAMPLE = Path(__file__).parent / "curriculum"
CRAFTBOT = Path(sys.executable).parent / "craftbot"
B, N, OB, L = "basics.yaml", "next.yaml", "onboarding.yaml", "locale.yaml"
LONG = "word " * 830  # 4,150 characters
MID = "word " * 150  # 750 characters


@dataclass(frozen=True)
class Replace:
    """Replace one exact, unique piece of a file in en/."""

    file: str
    old: str
    new: str


@dataclass(frozen=True)
class ReplaceLine:
    """Replace (or, with None, drop) the one line of a file in en/ that starts with `prefix`."""

    file: str
    prefix: str
    new: str | None


@dataclass(frozen=True)
class Write:
    """Write a whole file in en/, or delete it when `text` is None."""

    file: str
    text: str | None


Edit = Replace | ReplaceLine | Write


@dataclass(frozen=True)
class Expect:
    """One diagnostic a case must produce.

    Its line and column are those of the first character of `at` (plus `offset`) in `file`;
    `at=None` means line 1, column 1 (a file-wide problem, or a file that is not there).
    """

    file: str  # in en/; "" for the en/ folder itself
    at: str | None
    wrong: str  # part of the message that says what is wrong
    fix: str  # part of the message that says what to do
    severity: str = "error"
    offset: int = 0


def warn(file: str, at: str | None, wrong: str, fix: str) -> Expect:
    """A diagnostic that is only a warning."""
    return Expect(file, at, wrong, fix, "warning")


CASES: dict[str, tuple[list[Edit], list[Expect]]] = {
    # YAML itself
    "yaml_syntax": (
        [Replace(B, 'text: "How stressed are you today?"', "text: How stressed: are you today?")],
        [Expect(B, ": are you", "YAML syntax: mapping values are not allowed",
                "put text that contains ': ' in quotes")]),
    "tab_indent": (
        [Replace(N, "  - id: recall\n    kind:", "  - id: recall\n\tkind:")],
        [Expect(N, "\tkind", "found character '\\t'", "indent with spaces, not tabs")]),
    "duplicate_key": (
        [Replace(B, '    button: "Ready"\n    next: mood\n',
                 '    next: mood\n    button: "Ready"\n    next: mood\n')],
        [Expect(B, "next: mood\n  - id: mood", "the key 'next' is written twice", "keep one")]),
    "empty_file": (
        [Write(N, "# Nothing here yet.\n")],
        [Expect(N, None, "the file is empty", "write its fields or delete the file")]),
    "list_not_mapping": (
        [Write(N, "- id: next\n  title: Next steps\n")],
        [Expect(N, None, "the file holds a list", "with no '- ' in front")]),
    "onboarding_syntax_error": (  # and no "unknown placeholder {loved_one}" in basics.yaml
        [Replace(OB, 'text: "What would you like me to call your loved one? A first name or a'
                     ' nickname is fine."', "text: What should I call them: a first name?")],
        [Expect(OB, ": a first name", "mapping values are not allowed", "in quotes")]),
    "yml_extension": (
        [Write("extra.yml", "id: extra\n")],
        [warn("extra.yml", None, "this file is ignored", "rename it to extra.yaml")]),
    # shape (pass one)
    "unknown_field": (
        [Replace(B, 'button: "Ready"', 'buton: "Ready"')],
        [Expect(B, "buton", "unknown field 'buton'", "did you mean 'button'?")]),
    "unknown_module_field": (  # and no "missing minutes": the guess already says it
        [Replace(N, "minutes: 2", "minute: 2")],
        [Expect(N, "minute: 2", "unknown field 'minute'", "did you mean 'minutes'?")]),
    "unknown_option_field": (
        [Replace(B, "feedback: \"That one can", "feedbak: \"That one can")],
        [Expect(B, "feedbak", "unknown field 'feedbak'", "did you mean 'feedback'?")]),
    "missing_next": (
        [Replace(B, "    save: trigger_time\n    next: quiz\n", "    save: trigger_time\n")],
        [Expect(B, "id: trigger", "step 'trigger' has no `next:`", "add `next:`")]),
    "text_step_missing_save": (
        [Replace(B, "    save: trigger_time\n", "")],
        [Expect(B, "id: trigger", "step 'trigger' has no `save:`", "add `save:`")]),
    "empty_next": (
        [Replace(N, '{homework}"\n    next: hello\n', '{homework}"\n    next:\n')],
        [Expect(N, "next:\n", "'next' has no value", "write it after the colon", offset=5)]),
    "unknown_kind": (
        [Replace(B, "    kind: checklist\n", "    kind: checkbox\n")],
        [Expect(B, "checkbox", "unknown step kind 'checkbox'", "did you mean 'checklist'?")]),
    "missing_kind": (
        [Replace(B, "  - id: partner_note\n    kind: message\n", "  - id: partner_note\n")],
        [Expect(B, "id: partner_note", "this step has no `kind:`", "add one of message, choice")]),
    "invalid_step_id": (
        [Replace(B, "  - id: intro\n", "  - id: Intro-1\n")],
        [Expect(B, "Intro-1", "'Intro-1' is not a valid id", "use lowercase letters, digits and _")]),
    "wrong_type": (
        [Replace(B, "minutes: 5\n", "minutes: soon\n")],
        [Expect(B, "soon", "'minutes' must be a whole number", "not 'soon'")]),
    "wrong_type_in_step": (  # a field of one step kind, inside the discriminated union
        [Replace(OB, "    columns: 2\n    options:\n      - {label: \"My child\"",
                 "    columns: two\n    options:\n      - {label: \"My child\"")],
        [Expect(OB, "columns: two", "'columns' must be a whole number", "not 'two'", offset=9)]),
    "text_item_wrong_type": (
        [Replace(B, '      - "Tap when you are ready."\n', "      - 42\n")],
        [Expect(B, "42\n", "item 2 of 'text' must be text", "put it in quotes")]),
    "step_not_mapping": (
        [Replace(N, "  - id: bye\n", "  - bye\n  - id: bye\n")],
        [Expect(N, "bye\n  - id: bye", "item 4 of 'steps' must be a mapping", "key: value lines")]),
    "minutes_zero": (
        [Replace(N, "minutes: 2\n", "minutes: 0\n")],
        [Expect(N, "minutes: 0", "'minutes' is 0", "it must be at least 1", offset=9)]),
    "title_too_long": (
        [Replace(N, "title: Next steps\n",
                 "title: Next steps after the basics, for the weeks when things feel hard\n")],
        [Expect(N, "Next steps after", "'title' is 64 characters", "keep it to at most 60")]),
    "quiz_no_correct": (
        [Replace(B, "        correct: true\n", "")],
        [Expect(B, "id: quiz", "step 'quiz': a quiz needs exactly one option",
                "with `correct: true` (found 0)")]),
    "quiz_two_correct": (
        [Replace(B, '      - label: "While they are drunk"\n',
                 '      - label: "While they are drunk"\n        correct: true\n')],
        [Expect(B, "id: quiz", "step 'quiz': a quiz needs exactly one option",
                "with `correct: true` (found 2)")]),
    "scale_min_max": (
        [Replace(B, "    min: 1\n    max: 10\n", "    min: 10\n    max: 10\n")],
        [Expect(B, "id: mood", "step 'mood': a scale needs min below max", "for example 1 to 10")]),
    "condition_in_not_list": (  # `in` is an alias of the field `in_`
        [Replace(OB, 'when: {key: safety_fear, in: ["yes", unsure]}',
                 'when: {key: safety_fear, in: "yes"}')],
        [Expect(OB, 'in: "yes"', "'in' must be a list", "lines starting with '- '", offset=4)]),
    "condition_two_tests": (
        [Replace(B, "{key: relationship, equals: partner}",
                 "{key: relationship, equals: partner, is_set: true}")],
        [Expect(B, "{key: relationship", "a condition needs exactly one test", "(found 2)")]),
    "condition_missing_key": (
        [Replace(N, "{key: homework, is_set: true}", "{is_set: true}")],
        [Expect(N, "{is_set: true}", "'when' has no `key:`", "add `key:`")]),
    "locale_missing_name": (  # and no second "missing or invalid locale.yaml"
        [Replace(L, "name: English\n", "")],
        [Expect(L, "locale: en", "this file has no `name:`", "add `name:`")]),
    # references and paths (pass two)
    "unknown_next": (  # and no "unreachable" or "no way to an end" for the steps around it
        [Replace(B, "    save: trigger_time\n    next: quiz\n", "    save: trigger_time\n    next: quizz\n")],
        [Expect(B, "quizz", "unknown step 'quizz'", "did you mean 'quiz'?")]),
    "unknown_option_next": (
        [Replace(B, "        next: trigger\n", "        next: triger\n")],
        [Expect(B, "triger", "unknown step 'triger'", "did you mean 'trigger'?")]),
    "start_unknown": (
        [Replace(N, "minutes: 2\n", "minutes: 2\nstart: helo\n")],
        [Expect(N, "helo", "unknown step 'helo'", "did you mean 'hello'?")]),
    "option_no_way_forward": (
        [Replace(N, '      - {label: "Yes", next: bye}\n    next: bye\n',
                 '      - {label: "Yes", next: bye}\n      - {label: "Not now"}\n')],
        [Expect(N, '{label: "Not now"}', "this option has no way forward", "give it `next:`")]),
    "unreachable_step": (
        [Replace(N, '    text: "Bye for now."\n', '    text: "Bye for now."\n  - id: orphan\n'
                 '    kind: message\n    text: "Nobody comes here."\n    next: bye\n')],
        [warn(N, "orphan", "step 'orphan' can never be reached", "point a `next:` at it or remove it")]),
    "loop_no_end": (
        [Replace(N, '{homework}"\n    next: hello\n', '{homework}"\n    next: recall\n')],
        [Expect(N, "recall\n    kind", "no way forward from step 'recall' to an end step",
                "give it a `next:` that leads to the end")]),
    "no_end_step": (
        [Replace(N, '    kind: end\n    text: "Bye for now."\n',
                 '    kind: message\n    text: "Bye for now."\n    next: hello\n')],
        [Expect(N, "steps:", "the module has no `kind: end` step", "add one")]),
    "duplicate_step_id": (
        [Replace(N, '    text: "Bye for now."\n',
                 '    text: "Bye for now."\n  - id: bye\n    kind: end\n    text: "See you."\n')],
        [Expect(N, 'bye\n    kind: end\n    text: "See', "step id 'bye' is used twice",
                "give each step its own id")]),
    "duplicate_module_id": (
        [Replace(N, "id: next\n", "id: basics\n")],
        [Expect(N, "basics\ntitle", "module id 'basics' is already used by basics.yaml",
                "give each module its own id")]),
    "unknown_placeholder": (
        [Replace(B, "{loved_one} usually use?", "{lovedone} usually use?")],
        [Expect(B, '"When does {lovedone}', "unknown placeholder {lovedone}",
                "did you mean 'loved_one'?")]),
    # crisis numbers are never written out (state/curriculum/helplines.py, phones.py)
    "literal_emergency_number": (
        [Replace(OB, "If anyone is in danger, call {emergency}.", "If anyone is in danger, call 911.")],
        [Expect(OB, "911.", "the emergency number '911' is written out", "write {emergency}")]),
    "literal_phone_and_short_code": (  # two in one text, each at its own column
        [Replace(OB, '"{dv_hotline_name}: {dv_hotline_details}.',
                 '"Hotline: 1-800-799-7233, or text START to 88788.')],
        [Expect(OB, "1-800-799-7233", "the phone number '1-800-799-7233' is written out",
                "write the line's placeholder: {lifeline}, {dv_hotline}"),
         Expect(OB, "text START to 88788", "the SMS short code 'text START to 88788'",
                "such as {dv_hotline_details}")]),
    "literal_international_number_in_a_label": (
        [Replace(B, 'label: "You never help"', 'label: "Call 0808 2000 247"')],
        [Expect(B, "0808 2000 247", "the phone number '0808 2000 247' is written out",
                "filled from the configured crisis lines")]),
    "literal_number_in_a_block_of_ui_text": (
        [Replace(L, "In danger? Call {emergency}.", "In danger? Call 112 or 999.")],
        [Expect(L, "112 or", "the emergency number '112'", "write {emergency}"),
         Expect(L, "999.", "the emergency number '999'", "write {emergency}")]),
    "figures_are_not_numbers": (  # times, years, ranges, percentages, counts: no diagnostic
        [Replace(B, '"How stressed are you today?"',
                 '"At 19:00 on 2024-05-01, in 1999 (2003-2005), 64% of 1,000 or 10 000 families,'
                 ' 2 to 3 of 10 steps, 1-10, $999, 24/7, 988lifeline.org: how stressed are you?"')],
        []),
    "unknown_crisis_line_placeholder": (
        [Replace(OB, "{dv_hotline_details}", "{dv_hotline_detail}")],
        [Expect(OB, '"{dv_hotline_name}', "unknown placeholder {dv_hotline_detail}",
                "did you mean 'dv_hotline_details'?")]),
    "unknown_risk_level": (
        [Replace(B, "{key: relationship, equals: partner}", "{risk: hihg}")],
        [Expect(B, "hihg}", "unknown risk level 'hihg'", "did you mean 'high'?")]),
    "unknown_risk_level_in_a_list": (
        [Replace(B, "{key: relationship, equals: partner}", "{risk: [some, severe]}")],
        [Expect(B, "severe]", "unknown risk level 'severe'", "use one of: none, some, high")]),
    "unknown_risk_flag": (
        [Replace(B, "{key: relationship, equals: partner}", "{risk_flag: gun}")],
        [Expect(B, "gun}", "unknown risk flag 'gun'", "use one of: fear, past_violence")]),
    "risk_test_with_a_key": (
        [Replace(B, "{key: relationship, equals: partner}", "{key: relationship, risk: high}")],
        [Expect(B, "{key: relationship, risk", "a risk test stands alone", "without `key:`")]),
    "unknown_open_when_flag": (
        [Replace(N, "steps:", "open_when: {risk_flag: firarm}\nsteps:")],
        [Expect(N, "firarm}", "unknown risk flag 'firarm'", "did you mean 'firearm'?")]),
    "unknown_branch_key": (
        [Replace(B, "key: relationship,", "key: relation,")],
        [Expect(B, "relation,", "no step saves an answer called 'relation'",
                "did you mean 'relationship'?")]),
    "text_too_long": (
        [Replace(B, 'text: "This week, notice one sober moment."', f'text: "{LONG}"')],
        [Expect(B, '"word', "text is 4150 characters; Telegram allows 4096", "split it into a list")]),
    "text_long_warning": (
        [Replace(B, 'text: "This week, notice one sober moment."', f'text: "{MID}"')],
        [warn(B, '"word', "text is 750 characters", "making `text:` a list")]),
    "unclosed_bold": (
        [Replace(OB, "I teach **CRAFT**, a method", "I teach **CRAFT, a method")],
        [Expect(OB, '"I teach', "unclosed ** (bold) marker", "close it or remove it")]),
    "long_label": (
        [Replace(N, '{label: "Yes", next: bye}',
                 '{label: "Yes, I am ready for the next part of this", next: bye}')],
        [warn(N, '"Yes, I am', "button label is 41 characters", "shorten it")]),
    "requires_unknown": (
        [Replace(N, "requires: [basics]", "requires: [basic]")],
        [Expect(N, "basic]", "unknown module 'basic' in requires", "did you mean 'basics'?")]),
    "requires_cycle": (
        [Replace(B, "minutes: 5\n", "minutes: 5\nrequires: [next]\n")],
        [Expect(B, "next]", "requiring 'next' makes a loop", "remove one of them"),
         Expect(N, "basics]", "requiring 'basics' makes a loop", "remove one of them")]),
    "suggest_unknown": (
        [Replace(B, "    text: \"That's the basics done.\"\n",
                 "    text: \"That's the basics done.\"\n    suggest: nxt\n")],
        [Expect(B, "nxt", "unknown module 'nxt' in suggest", "did you mean 'next'?")]),
    "order_duplicate": (
        [Replace(N, "order: 2\n", "order: 1\n")],
        [Expect(N, "order: 1", "order 1 is also used by module 'basics'",
                "give each module its own place", "warning", offset=7)]),
    "no_onboarding": (
        [Replace(OB, "onboarding: true\n", "")],
        [Expect("", None, "no module in en/ has `onboarding: true`",
                "add it to the module people start with")]),
    "two_onboarding": (
        [Replace(N, "minutes: 2\n", "minutes: 2\nonboarding: true\n")],
        [Expect(N, "onboarding: true", "more than one module has `onboarding: true`",
                "keep it on exactly one", offset=12),
         Expect(OB, "onboarding: true", "more than one module has `onboarding: true`",
                "keep it on exactly one", offset=12)]),
    # the locale file
    "locale_missing": (
        [Write(L, None)],
        [Expect(L, None, "en/ has no locale.yaml", "copy one from another locale and translate it")]),
    "ui_key_missing": (
        [ReplaceLine(L, "  quiz_correct:", None)],
        [Expect(L, "\nui:", "missing ui text 'quiz_correct'", "add `quiz_correct:` under ui:",
                offset=1)]),
    "ui_unknown_placeholder": (
        [ReplaceLine(L, "  next_module_button:", '  next_module_button: "Next: {name}"')],
        [Expect(L, '"Next: {name}"', "unknown placeholder {name} in ui text 'next_module_button'",
                "it may only use: {title}")]),
    "ui_unknown_key": (
        [Replace(L, "\nui:\n", '\nui:\n  farewell_words: "Bye"\n')],
        [warn(L, "farewell_words", "unknown ui text 'farewell_words'", "remove it")]),
    "ui_unclosed_bold": (
        [ReplaceLine(L, "  menu_title:", '  menu_title: "**Modules. Pick one."')],
        [Expect(L, '"**Modules. Pick', "unclosed ** (bold) marker", "close it or remove it")]),
    "locale_code_mismatch": (
        [Replace(L, "locale: en\n", "locale: es\n")],
        [Expect(L, "locale: es", "locale 'es' does not match its folder 'en'", "make them the same",
                offset=8)]),
}


def apply(edit: Edit, folder: Path, case: str) -> None:
    """Make one edit in a copy of the sample's en/ folder."""
    path = folder / edit.file
    if isinstance(edit, Write):
        if edit.text is None:
            path.unlink()
        else:
            path.write_text(edit.text, encoding="utf-8")
        return
    text = path.read_text(encoding="utf-8")
    if isinstance(edit, Replace):
        assert text.count(edit.old) == 1, f"{case}: the sample no longer has {edit.old!r} once"
        path.write_text(text.replace(edit.old, edit.new), encoding="utf-8")
        return
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.startswith(edit.prefix)]
    assert len(hits) == 1, f"{case}: the sample no longer has one line starting {edit.prefix!r}"
    lines[hits[0]] = "" if edit.new is None else edit.new + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def build(case: str, parent: Path) -> Path:
    """The sample curriculum with one case's defect, as a folder under `parent`."""
    root = parent / case
    shutil.copytree(SAMPLE, root)
    for edit in CASES[case][0]:
        apply(edit, root / "en", case)
    return root


def place(expect: Expect, root: Path) -> tuple[str, int, int]:
    """The file (relative to the curriculum), line and column an expectation points at."""
    file = root / "en" / expect.file
    relative = file.relative_to(root).as_posix()
    if expect.at is None:
        return relative, 1, 1
    text = file.read_text(encoding="utf-8")
    assert text.count(expect.at) == 1, f"{expect.at!r} is not in {relative} exactly once"
    index = text.index(expect.at) + expect.offset
    return relative, text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def seen(diagnostic: Diagnostic, root: Path) -> tuple[str, int, int]:
    """Where a diagnostic points, with its file relative to the curriculum."""
    return Path(diagnostic.file).relative_to(root).as_posix(), diagnostic.line, diagnostic.col


def test_there_are_at_least_30_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_mistake_is_reported_once_at_its_place(case: str, tmp_path: Path) -> None:
    root = build(case, tmp_path)

    _, problems = read_curriculum(root)

    expected = CASES[case][1]
    report = "\n".join(map(str, problems))
    assert len(problems) == len(expected), report
    for problem, want in zip(problems, expected, strict=True):
        assert seen(problem, root) == place(want, root), report
        assert problem.severity == want.severity, report
        assert want.wrong in problem.message
        assert want.fix in problem.message


@pytest.mark.parametrize("case", sorted(CASES))
def test_errors_stop_loading_and_warnings_do_not(case: str, tmp_path: Path) -> None:
    root = build(case, tmp_path)
    expected = CASES[case][1]
    if any(e.severity == "error" for e in expected):
        with pytest.raises(CurriculumError) as caught:
            load_curriculum(root)
        assert "error(s)" in str(caught.value)
    else:
        curriculum = load_curriculum(root)
        assert [seen(w, root) for w in curriculum.warnings] == [place(e, root) for e in expected]


def test_the_sample_curriculum_has_no_diagnostics() -> None:
    _, problems = read_curriculum(SAMPLE)
    assert problems == []


def test_output_is_in_file_line_column_order_and_stable(tmp_path: Path) -> None:
    roots = [build("two_onboarding", tmp_path), build("requires_cycle", tmp_path)]
    for root in roots:
        first = read_curriculum(root)[1]
        places = [(p.file, p.line, p.col) for p in first]
        assert len(first) == 2
        assert places == sorted(places)
        assert read_curriculum(root)[1] == first


def test_yes_and_no_stay_strings_and_only_true_false_are_booleans(tmp_path: Path) -> None:
    root = tmp_path / "curriculum"
    shutil.copytree(SAMPLE, root)
    en = root / "en"
    apply(Replace(OB, "value: \"yes\"\n        next: name", "value: yes\n        next: name"), en, "")
    apply(Replace(OB, '{label: "No", value: "no"}\n    next: safety_weapons',
                  '{label: "No", value: no}\n    next: safety_weapons'), en, "")
    apply(Replace(OB, 'in: ["yes", unsure]}\n        next: safety_concern\n      - when: {key: safety_w',
                  'in: [yes, unsure]}\n        next: safety_concern\n      - when: {key: safety_w'), en, "")
    apply(Replace(B, 'set: {tone_ok: "yes"}', "set: {tone_ok: on}"), en, "")

    curriculum, problems = read_curriculum(root)

    assert problems == []
    content = curriculum.content("en")
    consent, fear = content.step("onboarding", "consent"), content.step("onboarding", "safety_fear")
    route, pick = content.step("onboarding", "safety_route"), content.step("basics", "pick")
    quiz = content.step("basics", "quiz")
    assert isinstance(consent, ChoiceStep) and isinstance(fear, ChoiceStep)
    assert isinstance(route, BranchStep) and isinstance(pick, ChoiceStep)
    assert isinstance(quiz, QuizStep)
    assert consent.options[0].value == "yes"
    assert fear.options[2].value == "no"
    assert route.cases[0].conditions[0].in_ == ["yes", "unsure"]
    assert pick.options[1].set == {"tone_ok": "on"}
    assert [o.correct for o in quiz.options] == [False, True]
    assert content.onboarding.id == "onboarding"


def test_an_alias_inside_itself_is_an_error_not_a_crash(tmp_path: Path) -> None:
    root = tmp_path / "curriculum"
    shutil.copytree(SAMPLE, root)
    apply(Replace(N, "requires: [basics]", "requires: &loop [*loop]"), root / "en", "")

    _, problems = read_curriculum(root)

    assert any(p.message.startswith("this YAML alias refers to itself") and p.line == 6
               for p in problems)


def test_a_locale_folder_given_as_the_root_names_its_parent() -> None:
    _, problems = read_curriculum(SAMPLE / "en")
    assert len(problems) == 1
    assert "this is one locale's folder" in problems[0].message
    assert str(SAMPLE.resolve()) in problems[0].message


def test_a_missing_folder_is_one_error(tmp_path: Path) -> None:
    _, problems = read_curriculum(tmp_path / "nowhere")
    assert [p.message for p in problems] == [
        "no such curriculum folder; give the folder that holds en/ ..."]


needs_cli = pytest.mark.skipif(not CRAFTBOT.exists(), reason="the craftbot command is not installed")


def craftbot(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real `craftbot` command."""
    return subprocess.run([str(CRAFTBOT), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=False)


@needs_cli
def test_cli_prints_an_error_at_its_place_and_exits_1(tmp_path: Path) -> None:
    build("unknown_next", tmp_path)
    result = craftbot(tmp_path, "validate", "unknown_next")
    assert result.returncode == 1
    _, line, col = place(CASES["unknown_next"][1][0], tmp_path / "unknown_next")
    assert result.stdout.splitlines() == [
        f"unknown_next/en/basics.yaml:{line}:{col}: error: unknown step 'quizz'; did you mean 'quiz'?"]


@needs_cli
def test_cli_exits_0_when_there_are_only_warnings(tmp_path: Path) -> None:
    build("unreachable_step", tmp_path)
    result = craftbot(tmp_path, "validate", "unreachable_step")
    assert result.returncode == 0
    assert ": warning: step 'orphan' can never be reached" in result.stdout


@needs_cli
def test_cli_reports_a_yaml_syntax_error(tmp_path: Path) -> None:
    build("tab_indent", tmp_path)
    result = craftbot(tmp_path, "validate", "tab_indent")
    assert result.returncode == 1
    _, line, col = place(CASES["tab_indent"][1][0], tmp_path / "tab_indent")
    assert result.stdout.startswith(f"tab_indent/en/next.yaml:{line}:{col}: error: YAML syntax:")


@needs_cli
def test_cli_accepts_the_sample() -> None:
    result = craftbot(SAMPLE.parent, "validate", "curriculum")
    assert result.returncode == 0
    assert ": error:" not in result.stdout and ": warning:" not in result.stdout


if __name__ == "__main__":
    for name in sorted(CASES):
        print(build(name, Path(sys.argv[1])))
