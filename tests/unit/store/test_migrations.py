"""Schema versions: ordered steps, an upgrade keeps data and drops only what nothing used, a newer file is
refused clearly."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from kernelwright.store.database import Migration, StoreError, builtin_migrations, open_database


def test_builtin_migrations_are_numbered_in_order() -> None:
    steps = builtin_migrations()
    assert [s.version for s in steps] == list(range(1, len(steps) + 1))
    assert len(steps) >= 2
    for step in steps:
        assert step.statements(), step.name


def test_upgrade_from_v1_keeps_rows_and_adds_the_later_tables(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite3"
    v1 = open_database(path, builtin_migrations()[:1])
    assert v1.version == 1
    v1.connection.execute(
        "INSERT INTO measurements (path, symbol, source_hash, device, created_at, body) "
        "VALUES ('/w/a.py', 'Model', 'h', 'CPU', 1.0, '{}')"
    )
    tables = {r[0] for r in v1.connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "calibrations" not in tables
    v1.connection.close()

    upgraded = open_database(path)
    conn = upgraded.connection
    assert upgraded.version == len(builtin_migrations())
    assert conn.execute("SELECT symbol FROM measurements").fetchall() == [("Model",)]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "applied_edits" in tables and "calibrations" not in tables
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == list(range(1, len(builtin_migrations()) + 1))
    conn.close()


def _names(conn: sqlite3.Connection, kind: str) -> set[str]:
    return {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,))}


def test_v4_drops_the_unused_calibrations_table_and_key_index_and_keeps_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite3"
    v3 = open_database(path, builtin_migrations()[:3])
    assert "calibrations" in _names(v3.connection, "table")
    assert {"calibrations_by_device", "measurements_by_key"} <= _names(v3.connection, "index")
    v3.connection.execute(
        "INSERT INTO measurements (path, symbol, source_hash, device, created_at, body) "
        "VALUES ('/w/a.py', 'Model', 'h', 'CPU', 1.0, '{}')"
    )
    v3.connection.close()

    v4 = open_database(path, builtin_migrations()[:4])
    conn = v4.connection
    assert v4.version == 4
    assert "calibrations" not in _names(conn, "table")
    indexes = _names(conn, "index")
    assert not {"calibrations_by_device", "measurements_by_key"} & indexes
    assert "measurements_by_site" in indexes
    assert conn.execute("SELECT symbol FROM measurements").fetchall() == [("Model",)]
    conn.close()


def test_a_failing_step_rolls_back_and_leaves_the_version(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite3"
    broken = Migration(2, "0002_broken.sql", "CREATE TABLE t (a INTEGER);\nINSERT INTO nowhere VALUES (1);\n")
    steps = (*builtin_migrations()[:1], broken)
    with pytest.raises(sqlite3.OperationalError):
        open_database(path, steps)
    reopened = open_database(path, builtin_migrations()[:1])
    assert reopened.version == 1
    tables = {r[0] for r in reopened.connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "t" not in tables
    reopened.connection.close()


def test_a_store_from_a_newer_kernelwright_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite3"
    opened = open_database(path)
    opened.connection.execute("INSERT INTO schema_version VALUES (99, '0099_future.sql', 0)")
    opened.connection.close()
    with pytest.raises(StoreError, match="newer than this kernelwright"):
        open_database(path)
