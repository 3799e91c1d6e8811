"""A throwaway PostgreSQL server for the tests, started from the `postgresql` package's binaries.

`PostgresServer` runs `initdb` and `pg_ctl` (from /usr/lib/postgresql/<version>/bin, or
`pg_config --bindir`) on a temporary folder and a free port, with trust authentication on
127.0.0.1 only and fsync off (a test's data need not survive a power cut). As root (CI),
the server runs as the `postgres` user, since PostgreSQL refuses to run as root.

The fixtures: `postgres` (one server for the whole session), `pg_url` (a fresh database of
its own for each test) and `pg_keys_url` (a second one, for person keys). Without the
binaries (or with CRAFTBOT_TEST_POSTGRES=off) the tests that need them are skipped, except
under CI=true, where a missing server fails them: CI always runs both backends (.ci/run
installs the package).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = ["Backend", "PostgresServer", "backend", "backend_url", "find_bindir", "pg_keys_url", "pg_url",
           "postgres", "query"]

SUPERUSER = "craftbot"


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl, newest version first; None when not installed."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    if shutil.which("pg_config"):
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
            candidates.append(Path(out.stdout.strip()))
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One PostgreSQL server in a temporary folder, stopped and removed by `stop`."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable  # fsync as in production (the benches), not off as for tests
        self.folder = Path(tempfile.mkdtemp(prefix="craftbot-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        self._names = itertools.count(1)

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def start(self) -> PostgresServer:
        """initdb, then start on 127.0.0.1:`port`, waiting until it accepts connections."""
        if self._as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        return self.resume()

    def resume(self) -> PostgresServer:
        """Start the server on its data folder (again, after `halt`), waiting until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"),
                  "-w", "-t", "60", "start")
        return self

    def halt(self) -> None:
        """Stop the server (open sessions are ended, what was committed is kept), for `resume`."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        """The URL of one database on this server."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "t") -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = f"{prefix}{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (fast: open sessions are ended) and remove its folder."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def unavailable(why: str) -> None:
    """Skip the test, or fail it under CI=true (CI must run both backends)."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is needed under CI=true: {why}")
    pytest.skip(f"PostgreSQL is not available here: {why}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session's tests."""
    if os.environ.get("CRAFTBOT_TEST_POSTGRES", "").lower() == "off":
        unavailable("turned off (CRAFTBOT_TEST_POSTGRES=off)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -e '.[postgres]')")
    bindir = find_bindir()
    if bindir is None:
        unavailable("no initdb/pg_ctl (apt-get install postgresql)")
    assert bindir is not None
    server = PostgresServer(bindir)
    try:
        server.start()
    except (subprocess.CalledProcessError, OSError) as exc:
        server.stop()
        unavailable(f"the server did not start: {exc}")
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """A fresh database for this test."""
    return postgres.create_database("t")


@pytest.fixture
def pg_keys_url(postgres: PostgresServer) -> str:
    """A second fresh database, for the person keys."""
    return postgres.create_database("keys")


@dataclass(frozen=True)
class Backend:
    """Where a store under test is, and where its person keys are (None: beside the SQLite file)."""

    url: str
    keys_url: str | None = None

    @property
    def shared(self) -> bool:
        """Whether it is PostgreSQL."""
        return self.url.startswith("postgresql://")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A SQLite file, or a fresh PostgreSQL database and a key database: each test runs on both."""
    if request.param == "sqlite":
        return Backend(str(tmp_path / "data" / "bot.sqlite3"))
    server: PostgresServer = request.getfixturevalue("postgres")
    return Backend(server.create_database("b"), server.create_database("k"))


@pytest.fixture
def backend_url(backend: Backend) -> str:
    """`backend`'s store URL (or SQLite path)."""
    return backend.url


def query(where: str | Path, sql: str, values: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Rows read with a connection of the test's own: from a SQLite file, or a PostgreSQL URL.

    `sql` is written with `?` placeholders, as the store's own statements are.
    """
    if str(where).startswith("postgresql://"):
        import psycopg

        from state.store.postgres import bind, translate

        statement, numbered = translate(sql)
        with psycopg.connect(str(where), autocommit=True) as conn:
            cursor = conn.execute(statement, bind(values, numbered))
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
    import sqlite3

    db = sqlite3.connect(where, isolation_level=None)
    try:
        return db.execute(sql, values).fetchall()
    finally:
        db.close()


def saved_progress(where: str | Path, user_id: int) -> dict[str, Any]:
    """A person's saved progress, read from a SQLite file or a PostgreSQL URL."""
    rows = query(where, "SELECT data FROM users WHERE user_id = ?", (user_id,))
    assert rows, "no progress saved"
    data: dict[str, Any] = json.loads(str(rows[0][0]))
    return data
