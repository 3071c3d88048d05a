"""A damaged results file is moved aside with a message, never silently dropped; a fresh store is made
from what can still be read from it (the undo history first), and the message says what was lost."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from kernelwright.store import Store, store_path
from kernelwright.store.database import builtin_migrations
from support.measurements import measurement

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)


def _corrupt_files(path: Path) -> list[Path]:
    return sorted(
        p for p in path.parent.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))
    )


def test_a_file_that_is_not_a_database_is_moved_aside(tmp_path: Path) -> None:
    path = store_path(tmp_path)
    path.parent.mkdir(parents=True)
    garbage = b"this is not sqlite at all\n" * 200
    path.write_bytes(garbage)
    with Store(path) as store:
        assert store.message is not None
        assert "damaged" in store.message and "moved to" in store.message
        moved = _corrupt_files(path)
        assert len(moved) == 1
        assert store.recovery is not None and Path(store.recovery.moved_to) == moved[0]
        assert str(moved[0]) in store.message
        assert moved[0].read_bytes() == garbage
        assert store.recovery.readable is False
        assert "Nothing could be read" in store.message and "undo history" in store.message
        store.record_measurement("/w/a.py", measurement())
        assert len(store.history("/w/a.py", "Model")) == 1


def test_a_database_with_damaged_pages_fails_quick_check_and_is_moved_aside(tmp_path: Path) -> None:
    path = store_path(tmp_path)
    with Store(path) as store:
        for i in range(400):
            store.record_measurement("/w/a.py", measurement(source_hash=f"h{i:04d}" * 8))
        store._read("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    # Scribble over interior pages (not the header): the b-trees no longer hold together.
    for p in range(3, len(data) // page - 1, 2):
        data[p * page : p * page + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    with Store(path) as store:
        assert store.message is not None and "damaged" in store.message
        assert len(_corrupt_files(path)) == 1
        assert store.recovery is not None
        tables = {t.table: t for t in store.recovery.tables}
        kept, lost = tables["measurements"].kept, tables["measurements"].lost
        # Half the pages are scribbled over: some rows survive, the rest are counted as lost, never
        # served half-read (every kept row loads).
        assert 0 < kept < 400 and kept + lost == 400
        assert len(store.history("/w/a.py", "Model", limit=1000)) == kept
        assert f"Results kept: {kept} measurements; lost: {lost} measurements" in store.message


def test_a_healthy_store_is_left_alone(tmp_path: Path) -> None:
    path = store_path(tmp_path)
    with Store(path) as store:
        store.record_measurement("/w/a.py", measurement())
    with Store(path) as store:
        assert store.message is None
        assert len(store.history("/w/a.py", "Model")) == 1
    assert _corrupt_files(path) == []


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = store_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    with Store(path) as store:
        assert store.message is None
        assert store._read("SELECT MAX(version) FROM schema_version")[0][0] == len(builtin_migrations())


def _undo_history_then_results(path: Path, edits: int = 6) -> list[str]:
    """Undo records first (the oldest pages), then enough results to fill many pages after them."""
    originals: list[str] = []
    with Store(path) as store:
        for i in range(edits):
            original = f"# file {i}\n" + f"x{i} = 1\n" * (40 + 500 * (i % 2))  # some spill to overflow pages
            store.record_applied_edit(f"/w/f{i}.py", original, f"y = {i}\n", f"att{i}")
            originals.append(original)
        for i in range(300):
            store.record_measurement("/w/a.py", measurement(source_hash=f"h{i:04d}" * 8))
        store._read("PRAGMA wal_checkpoint(TRUNCATE)")
    return originals


def _zero_pages(data: bytes, first: int, count: int) -> bytes:
    return data[: first * 4096] + bytes(count * 4096) + data[(first + count) * 4096 :]


def _edits(store: Store) -> dict[str, str]:
    return {
        str(r[0]): str(r[1]) for r in store._read("SELECT path, original_text FROM applied_edits ORDER BY id")
    }


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: bytes(100) + d[100:], id="zeroed-header"),
        pytest.param(lambda d: d[: len(d) // 2], id="truncated"),
        pytest.param(lambda d: _zero_pages(d, len(d) * 2 // 3 // 4096, 2), id="zeroed-pages"),
    ],
)
def test_the_undo_history_is_kept_through_damage_that_spares_its_pages(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    path = store_path(tmp_path)
    originals = _undo_history_then_results(path)
    damaged = damage(path.read_bytes())
    path.write_bytes(damaged)
    with Store(path) as store:
        assert store.recovery is not None and store.recovery.readable
        assert _edits(store) == {f"/w/f{i}.py": text for i, text in enumerate(originals)}
        edit = store.last_applied_edit("/w/f3.py")
        assert edit is not None and edit.original_text == originals[3] and edit.attempt_id == "att3"
        assert "Undo history: all 6 applied edit(s) kept" in store.recovery.message
        assert Path(store.recovery.moved_to).read_bytes() == damaged
        assert store._read("PRAGMA integrity_check") == [("ok",)]
        store.record_applied_edit("/w/new.py", "a\n", "b\n")  # the fresh store takes new rows
    with Store(path) as store:
        assert store.recovery is None and len(_edits(store)) == 7


def test_lost_undo_records_are_named_with_their_files(tmp_path: Path) -> None:
    path = store_path(tmp_path)
    originals = _undo_history_then_results(path)
    with Store(path) as store:
        rows = store._read("SELECT id, path FROM applied_edits ORDER BY id")
    data = path.read_bytes()
    # Zero a page of one long original's text (an overflow page): that record can no longer be read.
    at = data.find(originals[1].encode()[1000:1100])
    assert at > 0
    path.write_bytes(_zero_pages(data, at // 4096, 1))
    with Store(path) as store:
        assert store.recovery is not None
        kept = _edits(store)
        assert "/w/f1.py" not in kept and len(kept) == 5
        assert [e.path for e in store.recovery.lost_edits] == ["/w/f1.py"]
        assert store.recovery.lost_edits[0].id == rows[1][0]
        assert "Undo history: 5 of 6 applied edit(s) kept; lost: edit 2 of /w/f1.py" in store.recovery.message
        assert "`kernelwright undo` cannot restore those" in store.recovery.message


def test_two_processes_that_find_the_damage_at_once_recover_it_once(tmp_path: Path) -> None:
    path = store_path(tmp_path)
    _undo_history_then_results(path)
    path.write_bytes(bytes(100) + path.read_bytes()[100:])
    script = (
        "import sys; from pathlib import Path; from kernelwright.store import Store; "
        f"s = Store(Path({str(path)!r})); "
        "print(len(s._read('SELECT id FROM applied_edits')), s.recovery is not None); s.close()"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    answers = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        answers.append(out.split())
    assert all(count == "6" for count, _ in answers)
    assert sorted(recovered for _, recovered in answers) == ["False", "False", "True"]
    assert len(_corrupt_files(path)) == 1
    assert not list(path.parent.glob("*.new-*"))


def test_rows_still_in_the_write_ahead_log_are_salvaged_too(tmp_path: Path) -> None:
    path = store_path(tmp_path)
    _undo_history_then_results(path, edits=2)
    with Store(path) as store:
        store.record_applied_edit("/w/late.py", "late\n", "later\n")  # in the WAL, not yet checkpointed
        # What a killed process leaves: the main file and its WAL, copied while the store is open.
        main, wal = path.read_bytes(), path.with_name(path.name + "-wal").read_bytes()
    assert wal
    path.write_bytes(_zero_pages(main, len(main) * 2 // 3 // 4096, 2))  # results' pages, not in the WAL
    path.with_name(path.name + "-wal").write_bytes(wal)
    with Store(path) as store:
        assert store.recovery is not None
        assert set(_edits(store)) == {"/w/f0.py", "/w/f1.py", "/w/late.py"}
        moved = Path(store.recovery.moved_to)
        assert moved.with_name(moved.name + "-wal").read_bytes() == wal  # kept beside its database
