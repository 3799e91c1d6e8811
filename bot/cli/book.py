"""`craftbot book --out DIR`: write each locale's curriculum book (HTML and Markdown) for review.

The book itself is `bot.documents.book`'s; this module picks the locales, says when the
diagrams will be Mermaid source (no Graphviz) and prints the files it wrote.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from bot.cli.curriculum import load_or_report, pick_locale
from bot.config import BUNDLED_CURRICULUM
from bot.documents.dot import graphviz_available
from bot.documents.html_book import book_html
from bot.documents.markdown_book import book_markdown


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `craftbot book` on the `craftbot` parser."""
    book = sub.add_parser("book", help="write the curriculum as a printable HTML and Markdown book",
                          description="Write curriculum-<locale>.html and .md: every message, option,"
                          " quiz answer and branch, with diagrams, a contents list and a sign-off table.")
    book.add_argument("--out", type=Path, required=True, help="folder to write the book into")
    book.add_argument("--curriculum", type=Path, default=None, help="curriculum folder")
    book.add_argument("--locale", help="only this locale (default: every locale)")


def run(args: argparse.Namespace) -> int:
    """Write the book of each locale; print the files written."""
    curriculum = load_or_report(args.curriculum or BUNDLED_CURRICULUM)
    if curriculum is None:
        return 1
    codes = sorted(curriculum.locales)
    if args.locale:
        if pick_locale(curriculum, args.locale) is None:
            return 1
        codes = [args.locale]
    if not graphviz_available():
        print("craftbot: Graphviz is not installed, so diagrams are shown as Mermaid source"
              " (install graphviz to draw them into the HTML)", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    generated = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    for code in codes:
        content = curriculum.locales[code]
        for suffix, text in (("html", book_html(curriculum, content, generated)),
                             ("md", book_markdown(curriculum, content, generated))):
            path = args.out / f"curriculum-{code}.{suffix}"
            path.write_text(text, encoding="utf-8")
            print(path)
    return 0
