"""`craftbot graph`: draw a module's flow (or every module's) as Mermaid, DOT, SVG or PNG.

The drawings are `bot.documents`' (`mermaid`, and `dot` for Graphviz); this module picks the
modules, the format and where the drawing goes: standard output, a file, or a folder with
one file per module.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.curriculum import load_or_report, pick_locale, pick_module
from bot.config import BUNDLED_CURRICULUM
from bot.documents.dot import GraphvizError, render, to_dot
from bot.documents.graph import Labels, answer_labels
from bot.documents.mermaid import to_mermaid
from state.curriculum.schema import Module

FORMATS = ("mermaid", "dot", "svg", "png")


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `craftbot graph` on the `craftbot` parser."""
    graph = sub.add_parser("graph", help="draw a module's flow (Mermaid, DOT, SVG or PNG)",
                           description="Draw a module's flow from the state machine the bot runs:"
                           " one node per step (its kind as the shape), option labels and branch"
                           " conditions on the arrows.")
    graph.add_argument("module", nargs="?", help="module id (default: every module)")
    graph.add_argument("--locale", help="locale folder, such as en (default: the default locale)")
    graph.add_argument("--format", choices=FORMATS, default="mermaid",
                       help="mermaid needs nothing installed; svg and png need Graphviz")
    graph.add_argument("--out", type=Path, help="file to write (a folder: one file per module);"
                       " default: standard output")
    graph.add_argument("--curriculum", type=Path, default=None, help="curriculum folder")


def run(args: argparse.Namespace) -> int:
    """Draw one module, or all, to standard output, a file or a folder."""
    curriculum = load_or_report(args.curriculum or BUNDLED_CURRICULUM)
    content = pick_locale(curriculum, args.locale) if curriculum is not None else None
    if content is None:
        return 1
    labels = answer_labels(content)
    modules = sorted(content.modules.values(), key=lambda m: (m.order, m.id))
    if args.module:
        module = pick_module(content, args.module)
        if module is None:
            return 1
        modules = [module]
    to_folder = args.out is not None and (args.out.is_dir() or not args.out.suffix)
    if len(modules) > 1 and args.format in ("svg", "png") and not to_folder:
        print(f"craftbot: a {args.format.upper()} of every module at once is too big to read; give"
              " a MODULE, or --out FOLDER for one file per module", file=sys.stderr)
        return 2
    try:
        if to_folder:
            return write_folder(args.out, modules, args.format, labels)
        return write_one(args.out, draw(modules, args.format, labels), args.format)
    except GraphvizError as exc:
        print(f"craftbot: {exc}", file=sys.stderr)
        return 2


def draw(modules: list[Module], fmt: str, labels: Labels | None = None) -> bytes:
    """The drawing of some modules in one of FORMATS, as bytes to write."""
    if fmt == "mermaid":
        return to_mermaid(modules, labels).encode("utf-8")
    source = to_dot(modules, labels)
    return source.encode("utf-8") if fmt == "dot" else render(source, fmt)


def write_folder(folder: Path, modules: list[Module], fmt: str, labels: Labels) -> int:
    """One drawing per module in `folder`, named `<module id>.<suffix>`."""
    suffix = {"mermaid": "mmd"}.get(fmt, fmt)
    folder.mkdir(parents=True, exist_ok=True)
    for module in modules:
        (folder / f"{module.id}.{suffix}").write_bytes(draw([module], fmt, labels))
    print(f"wrote {len(modules)} file(s) to {folder}", file=sys.stderr)
    return 0


def write_one(out: Path | None, data: bytes, fmt: str) -> int:
    """The drawing in the file `out`, or on standard output when it is text."""
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        print(f"wrote {out}", file=sys.stderr)
    elif fmt == "png":
        print("craftbot: a PNG is not text; give --out FILE.png", file=sys.stderr)
        return 2
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0
