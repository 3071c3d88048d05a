"""What a killed run or a damaged store leaves, driven through the real command line.

- `optimize --apply` killed (SIGKILL) between writing its temporary file and the rename: the next undo
  removes the temporary file, and says that the edit never landed instead of "restoring" anything.
- A damaged store: undo still restores from the undo history salvaged out of it, and says on stderr
  and in its JSON what was kept or lost and where the damaged copy went.
- `verify` killed mid-job: the next run removes its worker and exchange folders, and leaves those of a
  `bench` that is still running.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from kernelwright.core.measure import content_key
from kernelwright.engine import leftovers
from kernelwright.engine.leftovers import folder_owner
from kernelwright.optimize.apply import apply_result
from kernelwright.optimize.events import OptimizeResult, Status
from kernelwright.store import Store, store_path
from support.measurements import measurement
from support.scripted_servers import FAST_REPLY, SLOW_REFERENCE, AnthropicServer, Scripted

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

# The real CLI, which stops itself (SIGSTOP) at the moment `atomic_write` renames its finished temporary
# file into place, so that the test's SIGKILL lands exactly there: a kill at a random moment would
# mostly miss a window of microseconds. The audit hook only chooses the moment; nothing is replaced.
STOP_BEFORE_RENAME = """
import os, signal, sys

def stop_before_rename(event, args):
    if event == "os.rename" and str(args[0]).endswith(".kw-tmp"):
        os.kill(os.getpid(), signal.SIGSTOP)

sys.addaudithook(stop_before_rename)
from kernelwright.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _kernelwright(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kernelwright", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=200,
        cwd=cwd,
        env=env,
    )


def _wait_for(condition: Callable[[], bool], timeout: float, what: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended (exit {proc.returncode}) before {what}:\n{err}\n{out}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout:.0f} s")
        time.sleep(0.05)


def _stopped(pid: int) -> bool:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rfind(")") + 2] == "T"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_an_apply_killed_before_its_rename_leaves_no_temp_file_and_undo_says_it_never_landed(
    tmp_path: Path,
) -> None:
    (tmp_path / ".git").mkdir()  # the workspace root, where the store goes
    problem = tmp_path / "slow.py"
    problem.write_text(SLOW_REFERENCE)
    with AnthropicServer([Scripted(text=FAST_REPLY)]) as server:
        env = {**os.environ, "ANTHROPIC_API_KEY": "sk-test", "ANTHROPIC_BASE_URL": server.url}
        optimize = ["optimize", str(problem), "--provider", "anthropic", "--model", "claude-sonnet-5-5"]
        options = ["--budget", "rounds=1,candidates=1", "--device", "cpu", "--json", "--apply"]
        run = subprocess.Popen(
            [sys.executable, "-c", STOP_BEFORE_RENAME, *optimize, *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=env,
        )
        try:
            _wait_for(lambda: _stopped(run.pid), 240, "stop at the rename of --apply", run)
        finally:
            run.kill()
            run.communicate()
    assert run.returncode == -signal.SIGKILL
    # What the kill left: a finished temporary file beside the file, which still has its old text.
    temps = list(tmp_path.glob(".slow.py.*.kw-tmp"))
    assert len(temps) == 1 and content_key(temps[0].read_text()) != content_key(SLOW_REFERENCE)
    assert problem.read_text() == SLOW_REFERENCE

    undo = _kernelwright("undo", problem, "--json", cwd=tmp_path)
    assert undo.returncode == 1, undo.stderr + undo.stdout
    error = json.loads(undo.stdout)["error"]
    assert error["code"] == "not_landed"
    assert "never landed" in error["message"] and "Nothing was changed" in error["message"]
    assert error["removed_temporary_files"] == [str(temps[0])]
    assert "temporary file left by an `optimize --apply` that was killed" in undo.stderr
    assert not temps[0].exists()
    assert problem.read_text() == SLOW_REFERENCE

    again = _kernelwright("undo", problem, "--json", cwd=tmp_path)
    assert again.returncode == 1
    assert "no applied optimize edit" in json.loads(again.stdout)["error"]["message"]
    assert problem.read_text() == SLOW_REFERENCE


OLD = "def f(x):\n    return x + x\n"
NEW = "def f(x):\n    return 2 * x\n"


def _applied_then_filled(workspace: Path) -> Path:
    """A file rewritten by a real apply (its undo record goes in first), then many results after it;
    the store checkpointed into its main file, as a closed store is."""
    (workspace / ".git").mkdir()
    path = workspace / "k.py"
    path.write_text(OLD)
    result = OptimizeResult(
        Status.IMPROVED, "att1", str(path), "f", "1.2x", new_file_text=NEW, original_hash=content_key(OLD)
    )
    with Store.for_workspace(workspace) as store:
        apply_result(path, result, store)
        for i in range(400):
            store.record_measurement(str(path), measurement(source_hash=f"h{i:04d}" * 8))
        store._read("PRAGMA wal_checkpoint(TRUNCATE)")
    assert path.read_text() == NEW
    return path


def _zero_header(data: bytes) -> bytes:
    return bytes(100) + data[100:]


def _cut_the_tail(data: bytes) -> bytes:
    return data[: len(data) * 3 // 5]


def _scribble_past_the_middle(data: bytes) -> bytes:
    start = len(data) * 2 // 3 // 4096 * 4096
    return data[:start] + b"\xa5" * 3 * 4096 + data[start + 3 * 4096 :]


@pytest.mark.parametrize("damage", [_zero_header, _cut_the_tail, _scribble_past_the_middle])
def test_undo_restores_from_the_history_salvaged_out_of_a_damaged_store(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    path = _applied_then_filled(tmp_path)
    db = store_path(tmp_path)
    damaged = damage(db.read_bytes())
    db.write_bytes(damaged)

    undo = _kernelwright("undo", path, "--json", cwd=tmp_path)
    assert undo.returncode == 0, undo.stderr + undo.stdout
    assert path.read_text() == OLD
    doc = json.loads(undo.stdout)
    recovery = doc["store_recovery"]
    moved = Path(recovery["moved_to"])
    assert moved.parent == db.parent and ".corrupt-" in moved.name
    assert moved.read_bytes() == damaged  # kept aside as it was found
    assert recovery["readable"] is True
    tables = {t["table"]: t for t in recovery["tables"]}
    assert tables["applied_edits"]["kept"] == 1 and tables["applied_edits"]["lost"] == 0
    assert 0 < tables["measurements"]["kept"] <= 400
    assert tables["measurements"]["kept"] + tables["measurements"]["lost"] <= 400
    assert "was damaged" in undo.stderr and str(moved) in undo.stderr
    assert "Undo history: all 1 applied edit(s) kept" in undo.stderr
    # The fresh store holds what was salvaged, and is sound: a second undo finds the edit undone.
    again = _kernelwright("undo", path, "--json", cwd=tmp_path)
    assert again.returncode == 1 and "was damaged" not in again.stderr
    assert "no applied optimize edit" in json.loads(again.stdout)["error"]["message"]


def test_a_store_with_nothing_readable_says_the_undo_history_is_lost(tmp_path: Path) -> None:
    path = _applied_then_filled(tmp_path)
    db = store_path(tmp_path)
    garbage = bytes((i * 37) % 251 for i in range(db.stat().st_size))
    db.write_bytes(garbage)

    undo = _kernelwright("undo", path, "--json", cwd=tmp_path)
    assert undo.returncode == 1
    error = json.loads(undo.stdout)["error"]
    assert "no applied optimize edit" in error["message"]
    recovery = error["store_recovery"]
    assert recovery["readable"] is False
    assert Path(recovery["moved_to"]).read_bytes() == garbage
    assert "Nothing could be read from the damaged copy" in undo.stderr
    assert "undo history" in undo.stderr and recovery["moved_to"] in undo.stderr
    assert path.read_text() == NEW  # untouched


HELD = """import os
import time

import torch
import torch.nn as nn

STARTED = {started!r}
HOLD = {hold!r}


class Model(nn.Module):
    def forward(self, x):
        open(STARTED, "w").close()
        deadline = time.monotonic() + 120
        while os.path.exists(HOLD) and time.monotonic() < deadline:
            time.sleep(0.02)
        return x * 2


def get_inputs():
    return [torch.randn(8, 8)]


def get_init_inputs():
    return []
"""

CANDIDATE = """import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x):
        return x * 2
"""


def _held_problem(folder: Path, name: str) -> tuple[Path, Path, Path]:
    started, hold = folder / f"{name}.started", folder / f"{name}.hold"
    hold.touch()
    problem = folder / f"{name}.py"
    problem.write_text(HELD.format(started=str(started), hold=str(hold)))
    return problem, started, hold


def _owned_by(folder: Path, pid: int, prefix: str) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.name.startswith(prefix) and (owner := folder_owner(p.name)) is not None and owner.pid == pid
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_killed_verify_leaves_no_worker_folders_and_a_live_bench_keeps_its_own(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"  # the runs' temp folder (TMPDIR); exchange folders go to /dev/shm
    temp.mkdir()
    shm = leftovers.SHARED_MEMORY
    env = {**os.environ, "TMPDIR": str(temp)}
    live_problem, live_started, live_hold = _held_problem(tmp_path, "live")
    killed_reference, killed_started, _ = _held_problem(tmp_path, "killed")  # held until it is killed
    candidate = tmp_path / "candidate.py"
    candidate.write_text(CANDIDATE)

    def start(*args: str | Path) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "kernelwright", *map(str, args), "--device", "cpu", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=env,
        )

    live = start("bench", live_problem, "--repeats", "3", "--no-compile")
    killed = start("verify", killed_reference, candidate, "--allow-unconfined")
    try:
        _wait_for(killed_started.exists, 200, "verify's reference running in its judge", killed)
        _wait_for(live_started.exists, 200, "bench's problem running", live)
        killed_worker = _owned_by(temp, killed.pid, leftovers.WORKER_PREFIX)
        killed_exchange = _owned_by(shm, killed.pid, leftovers.EXCHANGE_PREFIX)
        live_folders = _owned_by(temp, live.pid, leftovers.WORKER_PREFIX)
        assert len(killed_worker) == 2  # the judge's and the candidate's
        if os.access(shm, os.W_OK):  # else the exchange folder is inside the candidate worker's
            assert len(killed_exchange) == 1
        assert live_folders
        killed.kill()
        killed.communicate()
        # What the kill left (the test could not fail without this): the folders are all still there.
        assert all(p.is_dir() for p in killed_worker + killed_exchange)

        quick, _, quick_hold = _held_problem(tmp_path, "quick")
        quick_hold.unlink()
        fresh = start("bench", quick, "--repeats", "3", "--no-compile")
        out, err = fresh.communicate(timeout=200)
        assert fresh.returncode == 0, err + out
        assert json.loads(out)["measurement"]["timing"]["median_us"] > 0

        assert not any(p.exists() for p in killed_worker + killed_exchange)
        assert _owned_by(temp, killed.pid, "kernelwright-") == []
        assert _owned_by(temp, fresh.pid, "kernelwright-") == []  # it cleaned up after itself
        # The live bench's folders were left alone, and it goes on to finish.
        assert all(p.is_dir() for p in live_folders) and live.poll() is None
        live_hold.unlink()
        out, err = live.communicate(timeout=200)
        assert live.returncode == 0, err + out
        assert json.loads(out)["measurement"]["timing"]["median_us"] > 0
        assert _owned_by(temp, live.pid, "kernelwright-") == []
    finally:
        for proc in (live, killed):
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
