"""Imports flow one way: bot -> state. Only bot/ imports telegram; only the store aiosqlite."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_state_knows_nothing_of_telegram_or_the_bot() -> None:
    for path in (ROOT / "state").rglob("*.py"):
        names = imported(path)
        assert "telegram" not in names and "bot" not in names, path
        if path.name != "store.py":
            assert "aiosqlite" not in names, path
