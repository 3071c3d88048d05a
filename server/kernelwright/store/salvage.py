"""What can still be read from a damaged results database, copied row by row into a fresh one.

Python's sqlite3 has no `.recover` (a feature of the sqlite3 shell), so each table's rows are found by
every path that still works (a scan from either end, each of its indexes, `sqlite_sequence`) and then
read one rowid at a time: a damaged page costs the rows on it, not the rest of the table. A row is kept
only if it checks out: an undo record's original text must still hash to its recorded hash, a result's
body must parse as a JSON object. The damaged file is never opened itself (sqlite may write to a file
it opens: a WAL replay); a scratch copy is, with `writable_schema` so that a truncated file still opens,
and with a header from the fresh database where its own is gone.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kernelwright.core.measure import content_key

# Probe every rowid up to the highest one seen, unless that is absurd (a garbage page's rowid).
PROBE_LIMIT = 2_000_000
LOST_NAMED = 5  # lost undo records named in the message (the JSON lists them all)
_MAGIC = b"SQLite format 3\x00"
_HEADER = 100

Row = dict[str, Any]


@dataclass(frozen=True)
class TableSalvage:
    table: str
    kept: int
    lost: int  # rows that were there but could not be read, or did not check out
    readable: bool = True  # False: the table itself could not be read


@dataclass(frozen=True)
class LostEdit:
    """An undo record that could not be read back: what its index still says about it."""

    id: int
    path: str | None = None
    applied_at: float | None = None


@dataclass(frozen=True)
class StoreRecovery:
    """What happened to a damaged store: where it went, what was kept, what was lost."""

    store: str
    moved_to: str
    problem: str
    readable: bool  # False: nothing at all could be read from the damaged file
    tables: tuple[TableSalvage, ...]
    lost_edits: tuple[LostEdit, ...]
    message: str  # the same, in a sentence or three for a person


@dataclass(frozen=True)
class _Table:
    name: str
    check: Callable[[Row], bool]
    dense: bool = False  # ids run 1..sqlite_sequence with none deleted


def _body_is_json(row: Row) -> bool:
    try:
        return isinstance(json.loads(row["body"]), dict)
    except (KeyError, TypeError, ValueError):
        return False


def _edit_checks_out(row: Row) -> bool:
    new_hash = row.get("new_hash")
    return (
        isinstance(row.get("path"), str)
        and isinstance(row.get("original_text"), str)
        and content_key(row["original_text"]) == row.get("original_hash")
        and isinstance(new_hash, str)
        and len(new_hash) == 64
        and isinstance(row.get("applied_at"), int | float)
    )


# Parents before children (the foreign keys hold in the fresh store); applied_edits is the undo history.
TABLES = (
    _Table("attempts", _body_is_json),
    _Table("candidates", _body_is_json),
    _Table("verdicts", _body_is_json),
    _Table("measurements", _body_is_json),
    _Table("applied_edits", _edit_checks_out, dense=True),
)
UNDO_TABLE = "applied_edits"


def salvage(
    damaged: Path, fresh: sqlite3.Connection, fresh_file: Path
) -> tuple[bool, list[TableSalvage], list[LostEdit]]:
    """Copy what checks out from `damaged` (never written) into `fresh` (migrated, empty), in one
    transaction. Returns whether anything could be read, per-table counts, and the lost undo records."""
    with _scratch_copy(damaged, fresh_file) as source:
        if source is None:
            return False, [], []
        try:
            tables = {
                str(r[0]) for r in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        except sqlite3.DatabaseError:
            return False, [], []
        results: list[TableSalvage] = []
        lost_edits: list[LostEdit] = []
        fresh.execute("BEGIN IMMEDIATE")
        try:
            for table in TABLES:
                if table.name not in tables:
                    continue  # an older schema that never had it
                result, lost_ids = _copy_table(source, fresh, table)
                results.append(result)
                if table.name == UNDO_TABLE and lost_ids:
                    lost_edits = _describe_lost_edits(source, lost_ids)
            fresh.execute("COMMIT")
        except BaseException:
            fresh.execute("ROLLBACK")
            raise
    return True, results, lost_edits


@contextlib.contextmanager
def _scratch_copy(damaged: Path, fresh_file: Path) -> Iterator[sqlite3.Connection | None]:
    with tempfile.TemporaryDirectory(prefix="kernelwright-salvage-") as folder:
        copy = Path(folder) / "damaged.sqlite3"
        shutil.copyfile(damaged, copy)
        wal = damaged.with_name(damaged.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        _repair_header(copy, fresh_file, has_wal=wal.exists())
        try:
            conn = sqlite3.connect(copy, isolation_level=None)
            # A file shorter than its header says (truncated) opens only with this; nothing is written.
            conn.execute("PRAGMA writable_schema = ON")
        except sqlite3.DatabaseError:
            yield None
            return
        try:
            yield conn
        finally:
            conn.close()


def _repair_header(copy: Path, fresh_file: Path, has_wal: bool) -> None:
    """Where the first 100 bytes are not an sqlite header, put the fresh store's there (same page size
    and settings, made by this code), with the page count of this file."""
    data = bytearray(copy.read_bytes())
    if len(data) <= _HEADER or data[:16] == _MAGIC:
        return
    header = bytearray(fresh_file.read_bytes()[:_HEADER])
    if len(header) < _HEADER or header[:16] != _MAGIC:
        return
    page_size = int.from_bytes(header[16:18], "big") or 65536
    header[28:32] = (len(data) // page_size).to_bytes(4, "big")
    if has_wal:
        header[18:20] = b"\x02\x02"
    data[:_HEADER] = header
    copy.write_bytes(bytes(data))


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")')]


def _read_until_error(
    conn: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()
) -> tuple[list[Any], bool]:
    """The rows a query yields before a damaged page stops it, and whether it went through."""
    rows: list[Any] = []
    try:
        for row in conn.execute(sql, params):
            rows.append(row)
    except sqlite3.DatabaseError:
        return rows, False
    return rows, True


@dataclass
class _Found:
    ids: set[int]  # rowids the table holds, as far as anything still says
    complete: bool  # one full scan went through: `ids` is all of them
    top: int  # the highest rowid to probe
    answered: bool  # some path into the table worked at all


def _known_ids(source: sqlite3.Connection, table: _Table) -> _Found:
    name = table.name
    queries = [f'SELECT rowid FROM "{name}"', f'SELECT rowid FROM "{name}" ORDER BY rowid DESC']
    indexes, _ = _read_until_error(source, f'PRAGMA index_list("{name}")')
    queries += [f'SELECT rowid FROM "{name}" INDEXED BY "{r[1]}"' for r in indexes]
    found = _Found(set(), False, 0, False)
    for sql in queries:
        rows, whole = _read_until_error(source, sql)
        found.ids.update(int(r[0]) for r in rows if isinstance(r[0], int))
        found.complete = found.complete or whole
        found.answered = found.answered or whole or bool(rows)
    found.top = max(found.ids, default=0)
    sequence, _ = _read_until_error(source, "SELECT seq FROM sqlite_sequence WHERE name = ?", (name,))
    last = sequence[0][0] if sequence else None
    if isinstance(last, int) and 0 < last <= PROBE_LIMIT:
        found.top = max(found.top, last)
        if table.dense:  # never deleted from: every id up to the last one handed out was a row
            found.ids.update(range(1, last + 1))
            found.complete = True
    return found


def _copy_table(
    source: sqlite3.Connection, fresh: sqlite3.Connection, table: _Table
) -> tuple[TableSalvage, set[int]]:
    name = table.name
    try:
        available = set(_columns(source, name))
    except sqlite3.DatabaseError:
        available = set()
    columns = [c for c in _columns(fresh, name) if c in available]
    if not columns:
        return TableSalvage(name, 0, 0, readable=False), set()
    found = _known_ids(source, table)
    probes = range(1, found.top + 1) if found.top <= PROBE_LIMIT else sorted(found.ids)
    select = f'SELECT {", ".join(columns)} FROM "{name}" WHERE rowid = ?'
    insert = f'INSERT INTO "{name}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
    kept: set[int] = set()
    failed: set[int] = set()
    for rowid in probes:
        try:
            row = source.execute(select, (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            failed.add(rowid)
            continue
        if row is None:
            continue
        if not table.check(dict(zip(columns, row, strict=True))):
            failed.add(rowid)
            continue
        try:
            fresh.execute(insert, row)
        except sqlite3.IntegrityError:  # its parent row was lost, or a damaged copy of another row
            failed.add(rowid)
            continue
        kept.add(rowid)
    lost = (found.ids - kept) | (set() if found.complete else failed)
    return TableSalvage(name, len(kept), len(lost), readable=found.answered or bool(kept)), lost


def _describe_lost_edits(source: sqlite3.Connection, lost: set[int]) -> list[LostEdit]:
    """What the path index still knows of the undo records that were lost: which files they were of."""
    rows, _ = _read_until_error(
        source, f"SELECT rowid, path, applied_at FROM {UNDO_TABLE} INDEXED BY applied_edits_by_path"
    )
    known = {int(r[0]): r for r in rows if isinstance(r[0], int)}
    out: list[LostEdit] = []
    for edit_id in sorted(lost):
        row = known.get(edit_id)
        path = row[1] if row is not None and isinstance(row[1], str) else None
        applied_at = float(row[2]) if row is not None and isinstance(row[2], int | float) else None
        out.append(LostEdit(edit_id, path, applied_at))
    return out


def describe(
    store: Path,
    moved_to: Path,
    problem: str,
    readable: bool,
    tables: list[TableSalvage],
    lost_edits: list[LostEdit],
) -> StoreRecovery:
    head = (
        f"the results database {store} was damaged ({problem}); the damaged copy was moved to {moved_to} "
        "and a fresh store was made"
    )
    if not readable:
        text = (
            f"{head}. Nothing could be read from the damaged copy: the undo history of `optimize --apply` "
            "and every stored result are lost (files already rewritten keep their text; `kernelwright undo` "
            "cannot restore them)."
        )
        return StoreRecovery(
            str(store), str(moved_to), problem, False, tuple(tables), tuple(lost_edits), text
        )
    by_name = {t.table: t for t in tables}
    undo = by_name.get(UNDO_TABLE)
    parts = [f"{head} from what could still be read."]
    if undo is not None and not undo.readable and undo.kept == 0:
        count = f" ({undo.lost} record(s))" if undo.lost else ""
        parts.append(
            f"Undo history: it could not be read and is lost{count}; `kernelwright undo` cannot restore "
            "files that `optimize --apply` rewrote before now."
        )
    elif undo is None or (undo.kept == 0 and undo.lost == 0):
        parts.append("It held no undo history.")
    elif undo.lost == 0:
        parts.append(f"Undo history: all {undo.kept} applied edit(s) kept.")
    else:
        which = "; ".join(_lost_edit_words(e) for e in lost_edits[:LOST_NAMED]) or f"{undo.lost} record(s)"
        if len(lost_edits) > LOST_NAMED:
            which += f"; and {len(lost_edits) - LOST_NAMED} more"
        parts.append(
            f"Undo history: {undo.kept} of {undo.kept + undo.lost} applied edit(s) kept; lost: {which}. "
            "`kernelwright undo` cannot restore those."
        )
    others = [t for t in tables if t.table != UNDO_TABLE]
    kept = ", ".join(f"{t.kept} {t.table}" for t in others if t.kept)
    lost = ", ".join(f"{t.lost} {t.table}" for t in others if t.lost)
    unreadable = ", ".join(t.table for t in others if not t.readable)
    results = f"Results kept: {kept or 'none'}"
    if lost:
        results += f"; lost: {lost}"
    if unreadable:
        results += f"; unreadable: {unreadable}"
    parts.append(results + ".")
    return StoreRecovery(
        str(store), str(moved_to), problem, True, tuple(tables), tuple(lost_edits), " ".join(parts)
    )


def _lost_edit_words(edit: LostEdit) -> str:
    where = edit.path or "a file whose name was lost too"
    if edit.applied_at is None:
        return f"edit {edit.id} of {where}"
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(edit.applied_at))
    return f"edit {edit.id} of {where} (applied {when})"
