"""The results store: one SQLite file per workspace, `<workspace>/.kernelwright/results.sqlite3`.

Results are kept as JSON (`core.jsonable.to_json`) beside the indexed columns they are found by. Every
write is one short `BEGIN IMMEDIATE` transaction; WAL mode lets readers in other processes (the CLI
while the language server runs) read while one writes. One `Store` may be shared by threads: a lock
serialises its use of the single connection.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from kernelwright.core.candidate import Candidate
from kernelwright.core.jsonable import from_json, to_json
from kernelwright.core.measure import Measurement, Verdict, content_key
from kernelwright.store.database import StoreError, open_database
from kernelwright.store.keys import MeasurementKey
from kernelwright.store.records import AppliedEdit, AttemptRecord, StoredMeasurement

STORE_DIR = ".kernelwright"
STORE_FILE = "results.sqlite3"

T = TypeVar("T")


def store_path(workspace: Path) -> Path:
    return workspace / STORE_DIR / STORE_FILE


def workspace_root(file: Path) -> Path:
    """The workspace a file belongs to, for the command line: the nearest folder above it that has a
    `.kernelwright` store or a `.git`, else the file's own folder. Nearest wins, so a stray store in some
    far ancestor (a run on a loose file in /tmp, say) never captures a repository below it."""
    start = file.resolve().parent
    for folder in (start, *start.parents):
        if (folder / STORE_DIR).exists() or (folder / ".git").exists():
            return folder
    return start


def _dump(value: object) -> str:
    return json.dumps(to_json(value), ensure_ascii=False, separators=(",", ":"))


def _load(cls: type[T], body: str) -> T:
    return from_json(cls, json.loads(body))


class Store:
    def __init__(self, db_path: Path) -> None:
        opened = open_database(db_path)
        self.path = db_path
        # Set when a damaged file was moved aside on open: the caller shows (stderr, and JSON through
        # `recovery`) or logs it.
        self.recovery = opened.recovery
        self.message = opened.message
        self._conn = opened.connection
        self._lock = threading.Lock()

    @classmethod
    def for_workspace(cls, workspace: Path) -> Store:
        return cls(store_path(workspace))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Any]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    # Measurements -------------------------------------------------------------------------------------

    def record_measurement(self, path: str, measurement: Measurement) -> None:
        key = MeasurementKey.of(measurement)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO measurements (path, symbol, source_hash, device, torch_version, triton_version, "
                "cuda_version, median_us, created_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    path,
                    measurement.symbol,
                    key.source_hash,
                    key.device,
                    key.torch,
                    key.triton,
                    key.cuda,
                    measurement.timing.median_us,
                    measurement.created_at,
                    _dump(measurement),
                ),
            )

    def history(self, path: str, symbol: str, limit: int = 100) -> list[StoredMeasurement]:
        """Measurements of a site, newest first, across code versions and devices."""
        rows = self._read(
            "SELECT id, path, symbol, body FROM measurements WHERE path = ? AND symbol = ? "
            "ORDER BY created_at DESC, id DESC LIMIT ?",
            (path, symbol, limit),
        )
        return [StoredMeasurement(r[0], r[1], r[2], _load(Measurement, r[3])) for r in rows]

    def forget(self, path: str | None = None) -> int:
        """Delete measurements (of one file, or all): the LSP's clearResults command."""
        with self._write() as conn:
            if path is None:
                cursor = conn.execute("DELETE FROM measurements")
            else:
                cursor = conn.execute("DELETE FROM measurements WHERE path = ?", (path,))
            return int(cursor.rowcount)

    # Optimize attempts, candidates and verdicts ------------------------------------------------------

    def save_attempt(self, attempt: AttemptRecord) -> None:
        """Insert or update an attempt (the loop saves it at start and again as it ends)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO attempts (id, path, symbol, source_hash, provider, model, started_at, "
                "finished_at, status, best_candidate, best_speedup, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET finished_at = excluded.finished_at, "
                "status = excluded.status, "
                "best_candidate = excluded.best_candidate, best_speedup = excluded.best_speedup, "
                "body = excluded.body",
                (
                    attempt.id,
                    attempt.path,
                    attempt.symbol,
                    attempt.source_hash,
                    attempt.provider,
                    attempt.model,
                    attempt.started_at,
                    attempt.finished_at,
                    attempt.status.value,
                    attempt.best_candidate,
                    attempt.best_speedup,
                    _dump(attempt),
                ),
            )

    def attempts(self, path: str, symbol: str | None = None) -> list[AttemptRecord]:
        if symbol is None:
            rows = self._read("SELECT body FROM attempts WHERE path = ? ORDER BY started_at DESC", (path,))
        else:
            rows = self._read(
                "SELECT body FROM attempts WHERE path = ? AND symbol = ? ORDER BY started_at DESC",
                (path, symbol),
            )
        return [_load(AttemptRecord, r[0]) for r in rows]

    def record_candidate(self, attempt_id: str, candidate: Candidate) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO candidates (id, attempt_id, round, provider, symbol, source_hash, "
                "created_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    candidate.id,
                    attempt_id,
                    candidate.round,
                    candidate.provider.value,
                    candidate.symbol,
                    candidate.source_hash,
                    time.time(),
                    _dump(candidate),
                ),
            )

    def candidates(self, attempt_id: str) -> list[Candidate]:
        rows = self._read(
            "SELECT body FROM candidates WHERE attempt_id = ? ORDER BY round, created_at", (attempt_id,)
        )
        return [_load(Candidate, r[0]) for r in rows]

    def record_verdict(self, attempt_id: str, candidate_id: str, verdict: Verdict) -> None:
        median = verdict.measurement.timing.median_us if verdict.measurement else None
        with self._write() as conn:
            conn.execute(
                "INSERT INTO verdicts (candidate_id, attempt_id, passed, check_name, median_us, created_at, "
                "body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    candidate_id,
                    attempt_id,
                    int(verdict.passed),
                    verdict.check.value if verdict.check else None,
                    median,
                    time.time(),
                    _dump(verdict),
                ),
            )

    def verdicts(self, attempt_id: str) -> list[tuple[str, Verdict]]:
        rows = self._read(
            "SELECT candidate_id, body FROM verdicts WHERE attempt_id = ? ORDER BY id", (attempt_id,)
        )
        return [(r[0], _load(Verdict, r[1])) for r in rows]

    # Applied edits (undo) ----------------------------------------------------------------------------

    def record_applied_edit(
        self, path: str, original_text: str, new_text: str, attempt_id: str | None = None
    ) -> AppliedEdit:
        applied_at = time.time()
        original_hash, new_hash = content_key(original_text), content_key(new_text)
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO applied_edits (path, attempt_id, original_text, original_hash, new_hash, "
                "applied_at) VALUES (?, ?, ?, ?, ?, ?)",
                (path, attempt_id, original_text, original_hash, new_hash, applied_at),
            )
            edit_id = int(cursor.lastrowid or 0)
        return AppliedEdit(edit_id, path, attempt_id, original_text, original_hash, new_hash, applied_at)

    def last_applied_edit(self, path: str) -> AppliedEdit | None:
        """The most recent edit of `path` that is neither undone nor found never to have landed."""
        rows = self._read(
            f"SELECT {_EDIT_COLUMNS} FROM applied_edits WHERE path = ? AND undone_at IS NULL "
            "AND dropped_at IS NULL ORDER BY applied_at DESC, id DESC LIMIT 1",
            (path,),
        )
        return AppliedEdit(*rows[0]) if rows else None

    def unsettled_edits(self, path: str) -> list[AppliedEdit]:
        """Edits of `path` not known to have landed (their run may have been killed mid-apply), newest
        first."""
        rows = self._read(
            f"SELECT {_EDIT_COLUMNS} FROM applied_edits WHERE path = ? AND landed_at IS NULL "
            "AND undone_at IS NULL AND dropped_at IS NULL ORDER BY applied_at DESC, id DESC",
            (path,),
        )
        return [AppliedEdit(*r) for r in rows]

    def mark_landed(self, edit_id: int) -> None:
        """The edit's text is in its file (also when it had been taken for one that never landed: an
        apply still in flight in another process)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE applied_edits SET landed_at = ?, dropped_at = NULL "
                "WHERE id = ? AND landed_at IS NULL",
                (time.time(), edit_id),
            )

    def mark_dropped(self, edit_id: int) -> None:
        """The edit never reached its file: undo passes over it."""
        with self._write() as conn:
            conn.execute(
                "UPDATE applied_edits SET dropped_at = ? WHERE id = ? AND landed_at IS NULL "
                "AND dropped_at IS NULL",
                (time.time(), edit_id),
            )

    def mark_undone(self, edit_id: int) -> None:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE applied_edits SET undone_at = ? WHERE id = ? AND undone_at IS NULL",
                (time.time(), edit_id),
            )
            if cursor.rowcount != 1:
                raise StoreError(f"applied edit {edit_id} does not exist or was already undone")


# The applied_edits columns are AppliedEdit's fields, in order.
_EDIT_COLUMNS = ", ".join(f.name for f in dataclasses.fields(AppliedEdit))
