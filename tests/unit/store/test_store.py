"""The store keeps measurements, attempts, candidates, verdicts and edits across restarts."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from kernelwright.core.candidate import Candidate, Usage
from kernelwright.core.measure import CheckName
from kernelwright.core.settings import ProviderName
from kernelwright.store import AttemptRecord, AttemptStatus, Store, StoreError, store_path
from kernelwright.store.database import builtin_migrations
from support.measurements import GPU, VERSIONS, measurement, passed, rejected


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.for_workspace(tmp_path)
    yield s
    s.close()


def test_the_file_lives_under_the_workspace_in_wal_mode(tmp_path: Path, store: Store) -> None:
    assert store.path == tmp_path / ".kernelwright" / "results.sqlite3"
    assert store.path.exists()
    assert store._read("SELECT MAX(version) FROM schema_version")[0][0] == len(builtin_migrations())
    assert store.message is None
    mode = store._read("PRAGMA journal_mode")[0][0]
    assert mode == "wal"


def test_a_measurement_is_kept_with_its_content_key_device_and_versions(store: Store) -> None:
    versions = dataclasses.replace(VERSIONS, torch="2.14.0", cuda="12.8")
    m = measurement(source_hash="h1", median_us=42.0, device=GPU, versions=versions)
    store.record_measurement("/w/a.py", m)
    (row,) = store._read(
        "SELECT source_hash, device, torch_version, triton_version, cuda_version FROM measurements"
    )
    assert row == ("h1", GPU.label, "2.14.0", "3.7.1", "12.8")
    (stored,) = store.history("/w/a.py", "Model")
    assert stored.measurement == m


def test_history_survives_a_restart_newest_first(tmp_path: Path) -> None:
    with Store.for_workspace(tmp_path) as first:
        for i, median in enumerate([30.0, 20.0, 10.0]):
            first.record_measurement("/w/k.py", measurement("Model", f"h{i}", median, created_at=100.0 + i))
        first.record_measurement("/w/k.py", measurement("other", "x", 5.0))
    with Store.for_workspace(tmp_path) as again:
        history = again.history("/w/k.py", "Model")
        assert [h.measurement.timing.median_us for h in history] == [10.0, 20.0, 30.0]
        assert all(h.symbol == "Model" for h in history)
        (latest,) = again.history("/w/k.py", "Model", limit=1)
        assert latest.measurement.source_hash == "h2"
        assert again.history("/w/k.py", "missing") == []


def test_forget_one_file(store: Store) -> None:
    store.record_measurement("/w/a.py", measurement())
    store.record_measurement("/w/b.py", measurement())
    assert store.forget("/w/a.py") == 1
    assert store.history("/w/a.py", "Model") == []
    assert len(store.history("/w/b.py", "Model")) == 1


def test_attempt_candidates_and_verdicts_round_trip(store: Store) -> None:
    attempt = AttemptRecord(
        id="att1",
        path="/w/a.py",
        symbol="Model",
        source_hash="h",
        provider="builtin",
        model="",
        started_at=time.time(),
    )
    store.save_attempt(attempt)
    good = Candidate("c1", "class ModelNew: ...\n", "ModelNew", ProviderName.BUILTIN, 1, "compile it")
    bad = Candidate("c2", "class ModelNew: pass\n", "ModelNew", ProviderName.BUILTIN, 1)
    store.record_candidate("att1", good)
    store.record_candidate("att1", bad)
    store.record_verdict("att1", "c1", passed(80.0))
    store.record_verdict("att1", "c2", rejected(CheckName.VALUE, "value: max abs error 0.5 > atol 1e-5"))
    finished = dataclasses.replace(
        attempt,
        status=AttemptStatus.DONE,
        finished_at=time.time(),
        best_candidate="c1",
        best_speedup=1.25,
        usage=Usage(input_tokens=10, output_tokens=5, cost_usd=0.01, requests=1),
    )
    store.save_attempt(finished)
    assert store.attempts("/w/a.py") == [finished]
    assert store.candidates("att1") == [good, bad]
    verdicts = store.verdicts("att1")
    assert [cid for cid, _ in verdicts] == ["c1", "c2"]
    assert verdicts[1][1].check is CheckName.VALUE
    assert verdicts[0][1].measurement is not None and verdicts[0][1].measurement.timing.median_us == 80.0


def test_rows_written_before_the_rename_to_phase_seconds_still_load(store: Store) -> None:
    m = dataclasses.replace(measurement(), phase_seconds={"load": 0.5, "timing": 1.25})
    v = dataclasses.replace(passed(80.0), phase_seconds={"trials": 2.0})
    v = dataclasses.replace(v, measurement=dataclasses.replace(v.measurement, phase_seconds={"timing": 1.0}))
    store.record_measurement("/w/a.py", m)
    store.save_attempt(AttemptRecord("att1", "/w/a.py", "Model", "h", "builtin", "", time.time()))
    store.record_candidate(
        "att1", Candidate("c1", "class ModelNew: ...\n", "ModelNew", ProviderName.BUILTIN, 1)
    )
    store.record_verdict("att1", "c1", v)
    with store._write() as conn:  # the bodies as an older kernelwright wrote them
        for table in ("measurements", "verdicts"):
            conn.execute(f"UPDATE {table} SET body = replace(body, '\"phase_seconds\"', '\"stage_seconds\"')")
    assert all("stage_seconds" in r[0] for r in store._read("SELECT body FROM verdicts"))
    (stored,) = store.history("/w/a.py", "Model")
    assert stored.measurement == m
    assert store.verdicts("att1") == [("c1", v)]


def test_applied_edits_and_undo_bookkeeping(store: Store) -> None:
    first = store.record_applied_edit("/w/a.py", "v1", "v2", "att1")
    second = store.record_applied_edit("/w/a.py", "v2", "v3", "att2")
    assert store.last_applied_edit("/w/a.py") == second
    store.mark_undone(second.id)
    assert store.last_applied_edit("/w/a.py") == first
    with pytest.raises(StoreError, match="already undone"):
        store.mark_undone(second.id)
    assert store.last_applied_edit("/w/other.py") is None


def test_store_path_helper(tmp_path: Path) -> None:
    assert store_path(tmp_path) == tmp_path / ".kernelwright" / "results.sqlite3"
