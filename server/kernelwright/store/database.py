"""Opening the results database: WAL mode, busy time-out, ordered migrations, and damaged-file recovery.

The schema lives in `store/migrations/NNNN_name.sql`, applied in order; `schema_version` records each
step applied. A file that is not a database, or that fails `PRAGMA quick_check`, is moved aside to
`results.sqlite3.corrupt-<timestamp>` (never deleted: the person may want it back), and a fresh store
takes its place, made from what can still be read from it (store.salvage: the undo history first). What
was kept and lost, and where the damaged copy went, is returned to the caller, who shows or logs it.
Recovery runs under a lock on the store's folder and builds the fresh file beside it before putting it
in place, so two processes that find the damage at once recover it once, and none sees a half-made store.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.resources
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kernelwright.core.errors import KernelwrightError
from kernelwright.store.salvage import StoreRecovery, describe, salvage

# Readers wait this long for a writer's lock before giving up; writes are short transactions.
BUSY_TIMEOUT_MS = 10_000

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class StoreError(KernelwrightError):
    """The results database cannot be used as asked."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """Split into complete statements; executescript would commit behind our transaction's back."""
        out: list[str] = []
        current = ""
        for line in self.sql.splitlines(keepends=True):
            if line.lstrip().startswith("--") and not current.strip():
                continue
            current += line
            if sqlite3.complete_statement(current):
                out.append(current.strip())
                current = ""
        if current.strip():
            raise StoreError(f"migration {self.name} ends with an incomplete statement")
        return out


def builtin_migrations() -> tuple[Migration, ...]:
    folder = importlib.resources.files("kernelwright.store").joinpath("migrations")
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise StoreError(f"migrations are not numbered 1..N: {migration.name} where {expected} was due")
    return tuple(found)


@dataclass(frozen=True)
class OpenedDatabase:
    connection: sqlite3.Connection
    version: int
    # Set when a damaged file was found: where it went, what was kept and lost. Say so to the person.
    recovery: StoreRecovery | None = None

    @property
    def message(self) -> str | None:
        return self.recovery.message if self.recovery is not None else None


def connect(path: Path) -> sqlite3.Connection:
    # Autocommit mode (isolation_level=None): transactions are explicit BEGIN IMMEDIATE ... COMMIT, so a
    # writer takes the lock up front instead of failing on upgrade from a read lock.
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def _healthy(path: Path) -> str | None:
    """None when the file reads as a sound database (or is empty or absent), else what is wrong."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        # Read-only: a read-write connection to a damaged file may replay or delete its WAL on close (where
        # the newest rows are), changing the very copy that is to be kept.
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if (exc.sqlite_errorname or "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return None  # another process holds it (migrating, say): busy, not damaged
        return str(exc)
    problems = [str(r[0]) for r in rows if r and r[0] != "ok"]
    return "; ".join(problems[:3]) if problems else None


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _aside_name(path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    return target


def _remove_with_sides(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _recover(path: Path, problem: str, steps: tuple[Migration, ...]) -> StoreRecovery:
    """Build a fresh store beside the damaged one from what it still holds, move the damaged one
    aside (with its WAL) and put the fresh one in its place."""
    for stale in path.parent.glob(f"{path.name}.new-*"):  # a recovery that was killed: we hold the lock
        stale.unlink(missing_ok=True)
    fresh_path = path.with_name(f"{path.name}.new-{os.getpid()}")
    fresh = connect(fresh_path)
    try:
        fresh.execute("PRAGMA foreign_keys = ON")
        migrate(fresh, steps)  # a rollback journal here: one file to move into place once closed
        try:
            readable, tables, lost_edits = salvage(path, fresh, fresh_path)
        except (OSError, sqlite3.Error) as exc:
            # No room for the scratch copy, say: the fresh store stays empty, and the message says why.
            readable, tables, lost_edits = False, [], []
            problem = f"{problem}; reading it back failed: {exc}"
    except BaseException:
        fresh.close()
        _remove_with_sides(fresh_path)
        raise
    fresh.close()
    target = _aside_name(path)
    # The damaged file keeps its name until the fresh one replaces it (a hard link first, where the
    # file system has them): a process opening the store meanwhile finds a file, never none.
    try:
        os.link(path, target)
    except OSError:
        path.replace(target)
    # The WAL and shared-memory files belong to the damaged database: keep them beside it.
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(target.with_name(target.name + suffix))
    os.replace(fresh_path, path)
    return describe(path, target, problem, readable, tables, lost_edits)


def open_database(path: Path, migrations: tuple[Migration, ...] | None = None) -> OpenedDatabase:
    """Open (creating, recovering and migrating as needed) the database at `path`."""
    steps = builtin_migrations() if migrations is None else migrations
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise StoreError(
            f"{folder} is a file, but kernelwright keeps its results store in a folder of that name; move "
            "the file away (or rename it) and run again"
        )
    if path.exists() and not path.is_file():
        raise StoreError(
            f"{path} is not a regular file (a folder, FIFO or device); move it away and run again"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot make the results folder {folder}: {exc.strerror}; check its permissions"
        ) from None
    recovery: StoreRecovery | None = None
    if _healthy(path) is not None:
        with _folder_lock(path.parent):
            problem = _healthy(path)  # again: another process may have recovered it while we waited
            if problem is not None:
                recovery = _recover(path, problem, steps)
    conn = connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        version = migrate(conn, steps)
    except BaseException:
        conn.close()
        raise
    return OpenedDatabase(conn, version, recovery)


def current_version(conn: sqlite3.Connection) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at REAL NOT NULL)"
    )
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(conn: sqlite3.Connection, steps: tuple[Migration, ...]) -> int:
    """Apply the steps not yet applied, each in its own transaction; return the resulting version.

    Safe against several processes opening a new store at once: the version is re-read under the write
    lock, so each step runs exactly once.
    """
    known = steps[-1].version if steps else 0
    version = current_version(conn)
    if version > known:
        raise StoreError(
            f"the results database is at schema version {version}, newer than this kernelwright "
            f"understands ({known}); upgrade kernelwright or point it at another workspace"
        )
    for step in steps:
        if step.version <= version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = current_version(conn)
            if step.version <= version:
                conn.execute("COMMIT")
                continue
            for statement in step.statements():
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (step.version, step.name, time.time()),
            )
            conn.execute("COMMIT")
            version = step.version
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return version
