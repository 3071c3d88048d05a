"""A damaged results file is moved aside with a message, never silently dropped; a fresh store is made."""

from __future__ import annotations

from pathlib import Path

from kernelwright.store import Store, store_path
from support.measurements import measurement


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
        assert len(moved) == 1 and store.recovered_from == moved[0]
        assert moved[0].read_bytes() == garbage
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
        assert store.history("/w/a.py", "Model") == []


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
        assert store.version == 2
