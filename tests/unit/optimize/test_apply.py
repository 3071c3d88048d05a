"""--apply writes only an unchanged file, atomically, keeping the original for undo; undo restores it,
and tells an edit that landed from one whose run was killed before it wrote the file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kernelwright.core.measure import content_key
from kernelwright.optimize.apply import (
    ApplyError,
    NotLanded,
    Settled,
    apply_result,
    atomic_write,
    remove_stale_temps,
    settle,
    undo,
)
from kernelwright.optimize.events import OptimizeResult, Status
from kernelwright.store import Store

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

OLD = "def f(x):\n    return x + x\n"
NEW = "def f(x):\n    return 2 * x\n"


def _result(path: Path) -> OptimizeResult:
    return OptimizeResult(
        Status.IMPROVED, "att1", str(path), "f", "1.2x", new_file_text=NEW, original_hash=content_key(OLD)
    )


def test_apply_then_undo(tmp_path: Path) -> None:
    path = tmp_path / "k.py"
    path.write_text(OLD)
    os.chmod(path, 0o640)
    with Store.for_workspace(tmp_path) as store:
        edit = apply_result(path, _result(path), store)
        assert path.read_text() == NEW
        assert (path.stat().st_mode & 0o777) == 0o640
        assert edit.original_text == OLD and edit.attempt_id == "att1"
        assert not list(tmp_path.glob("*.kw-tmp"))
        undo(path, store)
        assert path.read_text() == OLD
        with pytest.raises(ApplyError, match="no applied optimize edit"):
            undo(path, store)


def test_apply_refuses_a_file_that_changed_during_the_run(tmp_path: Path) -> None:
    path = tmp_path / "k.py"
    path.write_text(OLD + "# edited meanwhile\n")
    with Store.for_workspace(tmp_path) as store:
        with pytest.raises(ApplyError, match="changed while the optimize run"):
            apply_result(path, _result(path), store)
        assert path.read_text() == OLD + "# edited meanwhile\n"
        assert store.last_applied_edit(str(path.resolve())) is None


def test_undo_refuses_to_lose_later_changes_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "k.py"
    path.write_text(OLD)
    with Store.for_workspace(tmp_path) as store:
        apply_result(path, _result(path), store)
        path.write_text(NEW + "# more work\n")
        with pytest.raises(ApplyError, match="--force"):
            undo(path, store)
        assert path.read_text() == NEW + "# more work\n"
        undo(path, store, force=True)
        assert path.read_text() == OLD


def test_nothing_to_apply(tmp_path: Path) -> None:
    path = tmp_path / "k.py"
    path.write_text(OLD)
    result = OptimizeResult(Status.NO_IMPROVEMENT, "a", str(path), "f", "no verified candidate beat it")
    with Store.for_workspace(tmp_path) as store, pytest.raises(ApplyError, match="nothing to apply"):
        apply_result(path, result, store)


# A process that stops itself (SIGSTOP) as `atomic_write` is about to rename its finished temporary
# file: the state a SIGKILL at that moment leaves, for the test to kill it in.
WRITER = """
import os, signal, sys
from pathlib import Path

def stop_before_rename(event, args):
    if event == "os.rename" and str(args[0]).endswith(".kw-tmp"):
        os.kill(os.getpid(), signal.SIGSTOP)

sys.addaudithook(stop_before_rename)
from kernelwright.optimize.apply import atomic_write
atomic_write(Path(sys.argv[1]), sys.argv[2])
"""


def _stopped_writer(path: Path, text: str) -> subprocess.Popen[bytes]:
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), text])
    deadline = time.monotonic() + 60
    while Path(f"/proc/{writer.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":
        assert writer.poll() is None, "the writer ended before its rename"
        assert time.monotonic() < deadline, "the writer never reached its rename"
        time.sleep(0.02)
    return writer


def test_a_temp_file_is_removed_once_its_writer_is_gone_and_kept_while_it_lives(tmp_path: Path) -> None:
    path = tmp_path / "k.py"
    path.write_text(OLD)
    writer = _stopped_writer(path, "# another writer's text\n")
    try:
        temps = list(tmp_path.glob(".k.py.*.kw-tmp"))
        assert len(temps) == 1
        assert remove_stale_temps(path) == []  # its writer lives (stopped): not ours to remove
        assert temps[0].exists()
    finally:
        writer.kill()
        writer.wait()
    assert temps[0].exists() and path.read_text() == OLD  # what the kill left
    with Store.for_workspace(tmp_path) as store:
        apply_result(path, _result(path), store)
    assert path.read_text() == NEW
    assert list(tmp_path.glob(".k.py.*.kw-tmp")) == []


def test_a_live_writer_finishes_after_another_apply_looked(tmp_path: Path) -> None:
    path = tmp_path / "k.py"
    path.write_text(OLD)
    writer = _stopped_writer(path, NEW)
    try:
        with Store.for_workspace(tmp_path) as store:
            assert settle(path, store) == Settled()
        writer.send_signal(signal.SIGCONT)
        assert writer.wait(timeout=60) == 0
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert path.read_text() == NEW and list(tmp_path.glob("*.kw-tmp")) == []


def test_only_our_own_temp_names_beside_the_file_are_touched(tmp_path: Path) -> None:
    path = tmp_path / "k.py"
    path.write_text(OLD)
    old_unowned = tmp_path / ".k.py.abcd1234.kw-tmp"  # an older kernelwright's name: no writer in it
    new_unowned = tmp_path / ".k.py.efgh5678.kw-tmp"
    other_file = tmp_path / ".other.py.abcd1234.kw-tmp"
    not_ours = tmp_path / ".k.py.notes.kw-tmp"
    for p in (old_unowned, new_unowned, other_file, not_ours):
        p.write_text("x")
    an_hour_ago = time.time() - 3600
    for p in (old_unowned, other_file, not_ours):
        os.utime(p, (an_hour_ago, an_hour_ago))
    assert remove_stale_temps(path) == [old_unowned]
    assert new_unowned.exists() and other_file.exists() and not_ours.exists()


def test_an_edit_killed_after_its_rename_still_undoes(tmp_path: Path) -> None:
    path = tmp_path / "k.py"
    path.write_text(OLD)
    with Store.for_workspace(tmp_path) as store:
        # Recorded and renamed into place, but the run died before marking it as landed.
        edit = store.record_applied_edit(str(path.resolve()), OLD, NEW, "att1")
        atomic_write(path, NEW)
        assert edit.landed_at is None
        undo(path, store)
        assert path.read_text() == OLD


def test_undo_of_an_edit_that_never_landed_changes_nothing_and_points_at_the_earlier_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "k.py"
    path.write_text(OLD)
    newer = NEW + "# and faster still\n"
    with Store.for_workspace(tmp_path) as store:
        apply_result(path, _result(path), store)  # landed: OLD -> NEW
        # A second apply recorded its edit and was killed before its rename: the file still has NEW.
        store.record_applied_edit(str(path.resolve()), NEW, newer, "att2")
        with pytest.raises(NotLanded, match="never landed") as caught:
            undo(path, store)
        assert caught.value.edit.attempt_id == "att2"
        assert "run undo again" in str(caught.value)
        assert path.read_text() == NEW
        undo(path, store)
        assert path.read_text() == OLD
        with pytest.raises(ApplyError, match="no applied optimize edit"):
            undo(path, store)


def test_an_interrupted_edit_of_a_file_edited_since_is_not_undone_without_force(tmp_path: Path) -> None:
    path = tmp_path / "k.py"
    path.write_text(OLD)
    with Store.for_workspace(tmp_path) as store:
        store.record_applied_edit(str(path.resolve()), OLD, NEW, "att1")  # killed before its rename
        path.write_text(OLD + "# the person's own change\n")
        with pytest.raises(ApplyError, match="was interrupted"):
            undo(path, store)
        assert path.read_text() == OLD + "# the person's own change\n"
