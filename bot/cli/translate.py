"""`craftbot translate export|import|mark`: a locale's texts to translators as PO files, and back.

PO (gettext) because every translation tool reads it — Poedit, Weblate, Lokalise, Crowdin,
OmegaT — and Babel, already used for dates and plurals, writes and reads it. XLIFF carries the
same and more ceremony; YAML that Weblate reads directly would put translators inside the
files where one wrong indent breaks a module.

One PO file per module (`po/es/self_care.po`). Each entry is one text: `msgctxt` names it
(`self_care/intro/text/2`: module, step, field, message), `msgid` is the source (English)
text, `msgstr` the translation. An extracted comment says what the text is and, as
`source: <fingerprint>`, which version of the source step it belongs to; an entry whose
step changed in the source since it was translated is exported `fuzzy`.

`import` writes a module only when every text of it is translated, builds it from the source
module with the words replaced (so its structure is always the source's) and records in
`translated_from.yaml` the fingerprint each step was translated from. A step with a fuzzy
entry keeps its earlier record, so `craftbot validate` still calls it stale.
`mark` records hand-translated modules, once a reviewer has checked them against the source.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot.config import BUNDLED_CURRICULUM
from state.curriculum.loader import LOCALE_FILE, own_default_locale, read_curriculum
from state.curriculum.locales import (
    LOCALE_RECORD,
    MODULE_KEY,
    Record,
    compare_module,
    locale_fingerprints,
    read_record,
    source_fingerprints,
    source_locale,
    write_record,
)
from state.curriculum.model import Curriculum, LocaleContent
from state.curriculum.translation import translated_module, units
from state.curriculum.yamlsource import CurriculumLoader, load_located

FINGERPRINT = "source: "  # the extracted comment that carries a step's source fingerprint
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # exports of the same texts are identical


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `craftbot translate` on the `craftbot` parser."""
    translate = sub.add_parser("translate", help="export a locale's texts as PO files for translators;"
                               " import them back", description=__doc__.split("\n\n")[1],
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = translate.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="write one PO file per module for a locale")
    export.add_argument("modules", nargs="*", help="module ids (default: every module)")
    export.add_argument("--out", type=Path, help="folder for the PO files (default: po/LOCALE)")
    take = actions.add_parser("import", help="write the translated modules from PO files")
    take.add_argument("files", nargs="+", type=Path, help="PO files, or folders of them")
    mark = actions.add_parser("mark", help="record hand-translated modules as made from the"
                              " source as it is now")
    mark.add_argument("modules", nargs="+", help="module ids; `locale` for the texts of locale.yaml")
    for parser in (export, take, mark):
        parser.add_argument("--locale", required=True, help="the translated locale, such as es")
        parser.add_argument("--curriculum", type=Path, default=None, help="curriculum folder")


def run(args: argparse.Namespace) -> int:
    """Export, import or mark; 1 with a message on what to fix."""
    root = args.curriculum or BUNDLED_CURRICULUM
    curriculum, _ = read_curriculum(root, own_default_locale(root))
    source = source_locale(curriculum)
    if source is None or source == args.locale:
        print(f"craftbot translate: {args.locale} is the source locale; pick a translated one",
              file=sys.stderr)
        return 1
    folder = root / args.locale
    if args.action == "export":
        return export(curriculum, source, folder, args.modules, args.out or Path("po") / args.locale)
    if args.action == "import":
        return import_po(curriculum, source, folder, args.files)
    return mark(curriculum, source, folder, args.modules)


def translated(curriculum: Curriculum, folder: Path, module_id: str) -> dict[str, object] | None:
    """A module's own translated YAML data in `folder`, None when it is served from the source."""
    content = curriculum.locales.get(folder.name)
    source = curriculum.locales[source_locale(curriculum) or ""]
    if content is None or content.modules.get(module_id) is source.modules.get(module_id):
        # Out of step with the source (say, after the source gained steps) it is served from
        # the source, but its words are still the translator's starting point: read the file.
        located_source = source.sources.get(module_id)
        file = folder / located_source.file.name if located_source is not None else None
        found = load_located(file)[0] if file is not None and file.exists() else None
        return found.data if found is not None else None
    located = content.sources.get(module_id)
    return located.data if located is not None else None


def export(curriculum: Curriculum, source: str, folder: Path, wanted: list[str], out: Path) -> int:
    """Write one PO file per module of the source locale, with the translations there are."""
    original = curriculum.locales[source]
    unknown = sorted(set(wanted) - set(original.modules))
    if unknown:
        print(f"craftbot translate: no module {', '.join(unknown)} in {source}/", file=sys.stderr)
        return 1
    record, _ = read_record(folder)
    out.mkdir(parents=True, exist_ok=True)
    for module_id in wanted or list(original.modules):
        catalog = module_catalog(original, module_id, folder.name,
                                 translated(curriculum, folder, module_id), record.get(module_id, {}))
        with (out / f"{module_id}.po").open("wb") as file:
            write_po(file, catalog, width=0)
        done = sum(1 for m in catalog if m.id and m.string)
        stale = sum(1 for m in catalog if m.id and m.fuzzy)
        print(f"{out / f'{module_id}.po'}: {len(catalog)} texts, {done} translated, {stale} fuzzy")
    return 0


def module_catalog(original: LocaleContent, module_id: str, locale: str,
                   mine: dict[str, object] | None, recorded: dict[str, str]) -> Catalog:
    """One module's texts as a PO catalog: source text, translation, fingerprint, fuzzy if stale."""
    module, located = original.modules[module_id], original.sources[module_id]
    now = source_fingerprints(module)
    catalog = Catalog(locale=locale, project="craftbot curriculum", version=module_id,
                      creation_date=FIXED_DATE, revision_date=FIXED_DATE, fuzzy=False,
                      header_comment=f"# {module.title}: the texts of {original.code}/{module_id}.yaml"
                                     f" to translate into {locale}.\n#")
    where = str(Path(original.code) / located.file.name)
    # By context (module/step/field/message), not by position: steps added or moved in the
    # source since the translation keep every existing translation with its own step.
    known = {unit.context: unit.text for unit in units(mine)} if mine is not None else {}
    for unit in units(located.data):
        words = known.get(unit.context)
        stale = bool(words) and recorded.get(unit.step) != now[unit.step]
        catalog.add(unit.text, words or "", locations=[(where, located.where(unit.path)[0])],
                    flags=["fuzzy"] if stale else [], context=unit.context,
                    auto_comments=[unit.note, FINGERPRINT + now[unit.step]])
    return catalog


def import_po(curriculum: Curriculum, source: str, folder: Path, files: list[Path]) -> int:
    """Write every fully translated module found in the PO files, and record their sources."""
    original = curriculum.locales[source]
    texts, fuzzy, made_from = read_files(files, folder.name)
    record, _ = read_record(folder)
    folder.mkdir(parents=True, exist_ok=True)
    code = 0
    for module_id in sorted({c.split("/")[0] for c in texts}):
        if module_id not in original.modules:
            print(f"{module_id}: no such module in {source}/; skipped", file=sys.stderr)
            code = 1
            continue
        data, missing = translated_module(original.sources[module_id].data, texts)
        if missing:
            print(f"{module_id}: not written, {len(missing)} text(s) untranslated (first: {missing[0]})")
            continue
        located = original.sources[module_id]
        write_module(folder / located.file.name, data, source, located.file)
        now = source_fingerprints(original.modules[module_id])
        earlier = record.get(module_id, {})
        made = {step: earlier.get(step, "") if f"{module_id}/{step}" in fuzzy
                else made_from.get(f"{module_id}/{step}", current) for step, current in now.items()}
        record[module_id] = {step: fingerprint for step, fingerprint in made.items() if fingerprint}
        stale = sum(1 for step, fp in now.items() if record[module_id].get(step) != fp)
        print(f"{module_id}: written to {folder / original.sources[module_id].file.name}"
              + (f", {stale} step(s) still to translate again" if stale else ""))
    write_record(folder, source, record)
    return code


def read_files(files: list[Path], locale: str) -> tuple[dict[str, str], set[str], dict[str, str]]:
    """(translation by context, step ids with a fuzzy entry, source fingerprint by module/step)."""
    texts: dict[str, str] = {}
    fuzzy: set[str] = set()
    made_from: dict[str, str] = {}
    paths = [p for f in files for p in (sorted(f.glob("*.po")) if f.is_dir() else [f])]
    for path in paths:
        with path.open("rb") as file:
            catalog = read_po(file, locale=locale)
        for message in catalog:
            if not message.id or not message.context:
                continue
            module_id, step = message.context.split("/")[:2]
            step = MODULE_KEY if step in ("title", "description") else step
            texts[message.context] = str(message.string or "")
            if message.fuzzy:
                fuzzy.add(f"{module_id}/{step}")
            for comment in message.auto_comments:
                if comment.startswith(FINGERPRINT):
                    made_from[f"{module_id}/{step}"] = comment.removeprefix(FINGERPRINT).strip()
    return texts, fuzzy, made_from


class _Dumper(yaml.SafeDumper):
    """YAML as counselors write it: block style, lists indented under their key, long lines kept
    whole, texts with line ends as `|`."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # `steps:` then `  - id:`, as docs/authoring.md shows


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def write_module(file: Path, data: dict[str, object], source: str, source_file: Path | None = None) -> None:
    """Write a translated module's YAML, saying where it came from.

    Written over the source file's own text, with only the words replaced, so its comments
    (what a step is for, the citation behind a fact) stay beside the same steps; built from
    the data alone when that does not give back exactly `data`.
    """
    head = (f"# Translated from {source}/{file.name} by `craftbot translate import`. Everything but\n"
            f"# the words is {source}'s; edit the words here or in the PO file and import it again.\n")
    body = _over_source(source_file, data) if source_file is not None else None
    if body is None:
        body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)
    file.write_text(head + body, encoding="utf-8")


def _over_source(source_file: Path, data: dict[str, object]) -> str | None:
    """The source file's text with each text replaced by its translation in `data`, or None."""
    text = source_file.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=CurriculumLoader)
    except yaml.YAMLError:
        return None
    edits = []
    for unit in units(data):
        node = root
        for part in unit.path:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == part), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
            else:
                node = None
            if node is None:
                return None
        if not isinstance(node, yaml.ScalarNode):
            return None
        start, end = node.start_mark.index, node.end_mark.index
        old = text[start:end]
        # One line, double-quoted: safe in block and flow mappings alike, line ends as \n.
        words = yaml.dump(unit.text, Dumper=yaml.SafeDumper, default_style='"', allow_unicode=True,
                          width=10_000).rstrip("\n")
        edits.append((start, end, words + old[len(old.rstrip()):]))
    for start, end, words in sorted(edits, reverse=True):
        text = text[:start] + words + text[end:]
    same = yaml.load(text, Loader=CurriculumLoader) == data  # CurriculumLoader is a SafeLoader
    return text if same else None


def mark(curriculum: Curriculum, source: str, folder: Path, modules: list[str]) -> int:
    """Record that hand-translated modules match the source as it is now (after review)."""
    original = curriculum.locales[source]
    record: Record = read_record(folder)[0]
    for module_id in modules:
        if module_id == LOCALE_RECORD and original.locale is not None:  # locale.yaml's texts
            record[LOCALE_RECORD] = locale_fingerprints(original.locale)
            print(f"{LOCALE_FILE}: recorded as translated from {source} as it is now")
            continue
        file = folder / original.sources[module_id].file.name if module_id in original.sources else None
        located, problems = load_located(file) if file is not None and file.exists() else (None, [])
        if located is None or file is None:
            print(*problems, f"craftbot translate: {folder.name}/ has no translation of '{module_id}'",
                  sep="\n", file=sys.stderr)
            return 1
        problems = list(compare_module(original.sources[module_id].data, located, source))
        if problems:
            print(*problems, sep="\n", file=sys.stderr)
            return 1
        record[module_id] = source_fingerprints(original.modules[module_id])
        print(f"{module_id}: recorded as translated from {source} as it is now")
    write_record(folder, source, record)
    return 0
