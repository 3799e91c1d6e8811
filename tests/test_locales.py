"""Locales in step: a translation checked against the source locale, and the PO round trip.

Each test works on a copy of the bundled curriculum (English, and Spanish with two modules),
changes one thing as a counselor or translator would, and reads what `craftbot validate` and
`craftbot translate` say about it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po, write_po

from bot.cli.main import main
from bot.config import BUNDLED_CURRICULUM
from state.curriculum.loader import read_curriculum

# The modules Spanish has translated so far; the others are served in English.
TRANSLATED = tuple(sorted(p.stem for p in (BUNDLED_CURRICULUM / "es").glob("*.yaml")
                          if p.stem not in ("locale", "translated_from", "coaching")))
ENGLISH = tuple(sorted(p.stem for p in (BUNDLED_CURRICULUM / "en").glob("*.yaml")
                       if p.stem not in ("locale", "coaching")))
# Two modules taken out of the Spanish copy, for the round trip and a partial locale.
FILLED, UNFILLED = "overdose", "problem_solving"
# A translation has no coaching.yaml of its own yet: its coached rehearsals go uncoached, warned.
UNCOACHED = "has no coaching.yaml"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the bundled curriculum."""
    return Path(shutil.copytree(BUNDLED_CURRICULUM, tmp_path / "curriculum"))


def validate(root: Path, *flags: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["validate", str(root), *flags])
    out = capsys.readouterr()
    lines = (out.out + out.err).splitlines()
    return code, [line for line in lines if ": error: " in line or ": warning: " in line]


def untranslate(root: Path, *modules: str) -> None:
    """Make modules untranslated in a copy: their Spanish files and records gone."""
    record_file = root / "es" / "translated_from.yaml"
    record = yaml.safe_load(record_file.read_text(encoding="utf-8"))
    for module_id in modules:
        (root / "es" / f"{module_id}.yaml").unlink(missing_ok=True)
        record.pop(module_id, None)
    record_file.write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, old
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_bundled_spanish_is_in_step_and_partial(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, lines = validate(root, "--strict", capsys=capsys)  # nothing stale, nothing out of step
    assert [line for line in lines if UNCOACHED not in line and "no translation of" not in line] == []
    untranslate(root, FILLED, UNFILLED)
    code, lines = validate(root, capsys=capsys)
    assert code == 0
    lines = [line for line in lines if UNCOACHED not in line]
    untranslated = len(set(ENGLISH) - set(TRANSLATED) | {FILLED, UNFILLED})
    assert len(lines) == 1 and f"es/ has no translation of {untranslated} module(s)" in lines[0]
    assert "warning" in lines[0]
    curriculum, _ = read_curriculum(root)
    spanish = curriculum.locales["es"]
    assert spanish.modules["self_care"].title == "Su propia vida"
    assert spanish.modules[FILLED] is curriculum.locales["en"].modules[FILLED]  # served in en
    code, lines = validate(root, "--strict", capsys=capsys)
    assert code == 1 and ": error: es/ has no translation" in lines[0]


def test_a_changed_english_step_makes_its_translation_stale(root: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    edit(root / "en" / "self_care.yaml", "How did it go?", "How did that go?")
    code, lines = validate(root, capsys=capsys)
    stale = [line for line in lines if "since this was translated" in line]
    assert code == 0 and len(stale) == 1
    es_file = root / "es" / "self_care.yaml"
    line_of_step = next(i for i, text in enumerate(es_file.read_text(encoding="utf-8").splitlines(), 1)
                        if "id: hw_how" in text)
    assert stale[0].startswith(f"{es_file}:{line_of_step}:")
    assert "warning: step 'hw_how' changed in en" in stale[0]
    code, lines = validate(root, "--strict", capsys=capsys)
    assert code == 1 and any("error: step 'hw_how' changed in en" in line for line in lines)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("    next: hw_what\n", "    next: hw_thanks\n", "`next` is 'hw_thanks' here but 'hw_what' in en"),
    ("Este módulo es sobre **usted**, no sobre {loved_one}.", "Este módulo es sobre **usted**.",
     "{loved_one} is missing"),
    ("Mire sus números más bajos.", "Vea sus números más bajos.", ""),  # other words: all well
    ("  - id: mood_ok\n", "  - id: mood_fine\n", "are missing here"),
    ('      - {label: "Salud", value: health}\n', '      - {label: "Salud", value: salud}\n',
     "`value` is 'salud' here but 'health' in en"),
])
def test_a_translation_out_of_step_is_served_in_english_until_fixed(
        root: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, message: str) -> None:
    es_file = root / "es" / "self_care.yaml"
    edit(es_file, old, new)
    code, lines = validate(root, capsys=capsys)
    found = [line for line in lines if line.startswith(f"{es_file}:")]
    curriculum, _ = read_curriculum(root)
    served = curriculum.locales["es"].modules["self_care"]
    if not message:
        assert code == 0 and found == [] and served.title == "Su propia vida"
        return
    assert code == 0 and any(message in line and ": warning: " in line for line in found), found
    assert all("(until then, the en module is served)" in line for line in found)
    assert served is curriculum.locales["en"].modules["self_care"]  # never a broken place to stand
    code, lines = validate(root, "--strict", capsys=capsys)
    assert code == 1 and any(message in line and ": error: " in line for line in lines)


def test_message_counts_must_match(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(root / "es" / "onboarding.yaml",
         '      - "Gracias por contármelo. Su seguridad es lo más importante."\n', "")
    code, lines = validate(root, "--strict", capsys=capsys)
    assert code == 1 and any("2 message(s) here but 3 in en" in line for line in lines)


def po_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.po"))}


def test_po_round_trip_loses_nothing(root: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    untranslate(root, FILLED, UNFILLED)
    kept = tuple(m for m in TRANSLATED if m not in (FILLED, UNFILLED))
    first = tmp_path / "po1"
    assert main(["translate", "export", "--locale", "es", "--curriculum", str(root),
                 "--out", str(first)]) == 0
    with (first / "self_care.po").open("rb") as file:
        catalog = read_po(file)
    focus = catalog.get("Look at your lowest numbers. Which area would you like to work on first? Pick one"
                        " that feels possible to change.", context="self_care/focus/text")
    assert focus is not None and focus.string.startswith("Mire sus números") and not focus.fuzzy
    assert any(c.startswith("source: ") for c in focus.auto_comments)
    before, _ = read_curriculum(root)

    # A translator fills one more module (here: every text marked), and it is imported with the
    # two translated ones, into a locale whose own files are gone.
    with (first / f"{FILLED}.po").open("rb") as file:
        filled = read_po(file, locale="es")
    for message in filled:
        if message.id:
            message.string = f"[es] {message.id}"
    with (first / f"{FILLED}.po").open("wb") as file:
        write_po(file, filled, width=0)
    for name in kept:
        (root / "es" / f"{name}.yaml").unlink()
    record_file = root / "es" / "translated_from.yaml"
    record = yaml.safe_load(record_file.read_text(encoding="utf-8"))
    record_file.write_text(yaml.safe_dump({k: record[k] for k in ("source", "locale")}), encoding="utf-8")
    assert main(["translate", "import", "--locale", "es", "--curriculum", str(root), str(first)]) == 0
    printed = capsys.readouterr().out
    assert "self_care: written to" in printed and f"{FILLED}: written to" in printed
    assert f"{UNFILLED}: not written, " in printed  # untranslated modules are left alone

    code, lines = validate(root, capsys=capsys)
    assert code == 0
    assert [line for line in lines if "translated" in line and "no translation" not in line] == []
    after, _ = read_curriculum(root)
    for module_id in kept:  # the same modules as the hand-written files, word for word
        assert (after.locales["es"].modules[module_id].model_dump()
                == before.locales["es"].modules[module_id].model_dump())
    assert after.locales["es"].modules[FILLED].title.startswith("[es] ")
    # Written over the English file: its comments (a step's purpose, a fact's source) stay.
    english = (root / "en" / f"{FILLED}.yaml").read_text(encoding="utf-8")
    spanish = (root / "es" / f"{FILLED}.yaml").read_text(encoding="utf-8")
    comments = [line.strip() for line in english.splitlines() if line.strip().startswith("# ")]
    assert comments and all(comment in spanish for comment in comments)

    second = tmp_path / "po2"
    assert main(["translate", "export", "--locale", "es", "--curriculum", str(root),
                 "--out", str(second)]) == 0
    assert po_files(second) == po_files(first)


def test_an_entry_whose_source_changed_is_exported_fuzzy_and_stays_stale(
        root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(root / "en" / "self_care.yaml", "How did it go?", "How did that go?")
    out = tmp_path / "po"
    assert main(["translate", "export", "--locale", "es", "--curriculum", str(root), "--out", str(out),
                 "self_care"]) == 0
    with (out / "self_care.po").open("rb") as file:
        catalog = read_po(file)
    fuzzy = sorted(m.context for m in catalog if m.id and m.fuzzy)
    assert fuzzy == ["self_care/hw_how/options/1/feedback", "self_care/hw_how/options/1/label",
                     "self_care/hw_how/options/2/feedback", "self_care/hw_how/options/2/label",
                     "self_care/hw_how/options/3/feedback", "self_care/hw_how/options/3/label",
                     "self_care/hw_how/text"]
    assert main(["translate", "import", "--locale", "es", "--curriculum", str(root), str(out)]) == 0
    assert "1 step(s) still to translate again" in capsys.readouterr().out
    _, lines = validate(root, capsys=capsys)
    assert any("step 'hw_how' changed in en" in line for line in lines)

    # The translator updates the text and clears the flag: the step is current again.
    for message in catalog:
        if message.id and message.fuzzy:
            message.flags.discard("fuzzy")
    with (out / "self_care.po").open("wb") as file:
        write_po(file, catalog, width=0)
    assert main(["translate", "import", "--locale", "es", "--curriculum", str(root), str(out)]) == 0
    _, lines = validate(root, capsys=capsys)
    assert not any("since this was translated" in line for line in lines)


def test_mark_refuses_a_translation_out_of_step(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(root / "es" / "self_care.yaml", "    next: hw_what\n", "    next: hw_thanks\n")
    assert main(["translate", "mark", "--locale", "es", "--curriculum", str(root), "self_care"]) == 1
    assert "`next` is 'hw_thanks' here" in capsys.readouterr().err
    record = yaml.safe_load((root / "es" / "translated_from.yaml").read_text(encoding="utf-8"))
    assert set(record) == {"source", "locale", *TRANSLATED}


def test_a_changed_english_ui_text_makes_its_translation_stale(root: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    edit(root / "en" / "locale.yaml", 'welcome_back: "Welcome back.', 'welcome_back: "Welcome back!')
    code, lines = validate(root, capsys=capsys)
    stale = [line for line in lines if "since this was translated" in line]
    assert code == 0 and len(stale) == 1
    assert f"{root / 'es' / 'locale.yaml'}:" in stale[0] and "`ui.welcome_back` changed in en" in stale[0]
    assert main(["translate", "mark", "--locale", "es", "--curriculum", str(root), "locale"]) == 0
    _, lines = validate(root, capsys=capsys)
    assert not any("since this was translated" in line for line in lines)
