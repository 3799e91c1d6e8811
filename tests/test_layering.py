"""The house rules, kept by a test: imports flow one way, no cycles, each library has one owner.

Every import counts: top-level, inside functions and under `TYPE_CHECKING`. The rooms and
what each may import are declared in `ROOMS` below (and in each package's docstring);
a module belongs to the longest room name that prefixes it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parent.parent
PACKAGES = ("state", "bot")

# room -> the rooms it may import (besides itself and its own sub-rooms)
ROOMS: dict[str, set[str]] = {
    "state.contracts": set(),
    "state.curriculum": {"state.contracts"},
    "state.engine": {"state.contracts", "state.curriculum"},
    "state.engine.safety": {"state.contracts", "state.curriculum", "state.engine"},
    "state.engine.between_sessions": {"state.contracts", "state.curriculum", "state.engine"},
    "state.storage": {"state.contracts"},  # the store's contract: its Protocols and records
    "state.store": {"state.contracts", "state.storage"},
    "state.reports": {"state.contracts", "state.curriculum", "state.engine", "state.storage",
                      "state.store"},
    "state.service": {"state.contracts", "state.curriculum", "state.engine", "state.storage",
                      "state.store", "state.reports"},
    "bot": {"state"},
}
# Sub-rooms are used by their parent (the engine asks its safety and between-sessions rooms),
# never the other way round, and never by each other.
SUBROOMS_OF = {"state.engine": {"state.engine.safety", "state.engine.between_sessions"}}

# third-party package -> the rooms (module prefixes) that may import it
OWNERS: dict[str, tuple[str, ...]] = {
    "telegram": ("bot.ptb",),
    "aiohttp": ("bot.ptb.webhook",),  # the webhook's server; and the fake Bot API server in tests
    "aiosqlite": (),  # not used: the store owns one sqlite3 connection on a writer thread
    "httpx": ("bot.ptb",),
    "sqlite3": ("state.store",),
    # PostgreSQL, the `postgres` extra
    "psycopg": ("state.store.postgres", "state.store.pgkeys", "state.store.pglisten", "state.store.pgbudget"),
    "psycopg_pool": ("state.store.postgres",),
    "orjson": ("state.store",),
    "cryptography": ("state.store.crypto", "bot.ops.pseudonym"),  # HKDF: the log pseudonym key
    "transitions": ("state.engine.machine",),
    "rapidfuzz": ("state.engine.safety",),
    "matplotlib": ("state.reports.chart",),
    "babel": ("state.curriculum.formats", "state.engine.between_sessions.places", "state.reports.chart",
              "bot.cli.translate"),
    "prometheus_client": ("bot.ops.metrics",),
    "pydantic": ("state.curriculum", "bot.config", "bot.config_sources"),
    "pydantic_core": ("state.curriculum", "bot.config"),  # bot.config: its own error wording
    "pydantic_settings": ("bot.config",),
    "yaml": ("state.curriculum", "bot.config", "bot.config_sources", "bot.cli"),
}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, name: str) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in the file, wherever it stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            yield base, node.lineno
            for alias in node.names:  # `from state.engine import turn` imports a module
                yield f"{base}.{alias.name}", node.lineno


def room_of(module: str) -> str:
    return max((r for r in ROOMS if module == r or module.startswith(r + ".")), key=len)


def internal(target: str, known: dict[str, Path]) -> str | None:
    """The project module an import names, or None for a name inside a module or a library."""
    return target if target in known else None


def graph() -> dict[str, set[tuple[str, int]]]:
    known = modules()
    edges: dict[str, set[tuple[str, int]]] = {}
    for name, path in known.items():
        edges[name] = {(t, line) for t, line in imports(path, name)
                       if internal(t, known) and t != name}
    return edges


def test_every_module_lives_in_a_declared_room() -> None:
    for name in modules():
        if name in PACKAGES:
            continue
        assert any(name == r or name.startswith(r + ".") for r in ROOMS), f"{name}: no room"


def test_imports_flow_one_way() -> None:
    wrong = []
    for source, targets in graph().items():
        if source in PACKAGES:
            continue
        here = room_of(source)
        for target, line in targets:
            there = room_of(target) if target not in PACKAGES else target
            allowed = ROOMS[here] | {here} | SUBROOMS_OF.get(here, set())
            ok = there in allowed or any(there.startswith(a + ".") for a in ROOMS[here])
            if not ok:
                wrong.append(f"{source}:{line} imports {target} ({here} may not use {there})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles() -> None:
    edges = {m: {t for t, _ in ts} for m, ts in graph().items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


def test_each_library_is_imported_only_by_its_owner() -> None:
    wrong = []
    for name, path in modules().items():
        for target, line in imports(path, name):
            top = target.split(".")[0]
            owners = OWNERS.get(top)
            if owners and not any(name == o or name.startswith(o + ".") for o in owners):
                wrong.append(f"{name}:{line} imports {top} (only {', '.join(owners)} may)")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_the_rule_catches_a_wrong_way_import(tmp_path: Path) -> None:
    """The checks above are not vacuous: a store importing the engine is caught."""
    source = tmp_path / "progress.py"
    source.write_text("from state.engine.turn import Turn\n")
    name = "state.store.progress"
    target = next(t for t, _ in imports(source, name) if t.startswith("state.engine"))
    assert room_of(name) == "state.store" and room_of(target) == "state.engine"
    assert room_of(target) not in ROOMS[room_of(name)]
