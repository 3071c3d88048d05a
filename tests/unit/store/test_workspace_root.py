"""Which folder's store a file from the command line uses."""

from __future__ import annotations

from pathlib import Path

from kernelwright.store import workspace_root


def test_the_nearest_marker_wins_over_a_stray_store_further_up(tmp_path: Path) -> None:
    (tmp_path / ".kernelwright").mkdir()  # e.g. left by a run on a loose file
    repo = tmp_path / "work" / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    file = repo / "src" / "k.py"
    file.write_text("")
    assert workspace_root(file) == repo


def test_an_existing_store_below_the_repository_is_used(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    pkg = tmp_path / "pkg"
    (pkg / ".kernelwright").mkdir(parents=True)
    file = pkg / "k.py"
    file.write_text("")
    assert workspace_root(file) == pkg
