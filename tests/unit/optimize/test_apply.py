"""--apply writes only an unchanged file, atomically, keeping the original for undo; undo restores it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kernelwright.core.candidate import text_hash
from kernelwright.optimize.apply import ApplyError, apply_result, undo
from kernelwright.optimize.events import OptimizeResult, Status
from kernelwright.store import Store

OLD = "def f(x):\n    return x + x\n"
NEW = "def f(x):\n    return 2 * x\n"


def _result(path: Path) -> OptimizeResult:
    return OptimizeResult(
        Status.IMPROVED, "att1", str(path), "f", "1.2x", new_file_text=NEW, original_hash=text_hash(OLD)
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
