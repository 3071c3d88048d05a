"""load_inline builds (harness/cuda_build.install_load_inline_wrapper): a retry only for a stale lock and
in a fresh folder, the first error kept, the machine's lacks named as the machine's, no folders left."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from kernelwright.harness import cuda_build
from torch.utils import cpp_extension


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("KERNELWRIGHT_BUILD_DIR", str(tmp_path))
    monkeypatch.setattr(cuda_build.time, "sleep", lambda s: None)
    return tmp_path


def install(monkeypatch: pytest.MonkeyPatch, fake: Any) -> Any:
    monkeypatch.setattr(cpp_extension, "load_inline", fake)
    cuda_build.install_load_inline_wrapper()
    return cpp_extension.load_inline


def test_a_stale_lock_is_retried_in_a_fresh_folder(monkeypatch: pytest.MonkeyPatch, builds: Path) -> None:
    seen: list[str] = []

    def fake(name: str, *args: Any, build_directory: str, **kwargs: Any) -> str:
        seen.append(build_directory)
        if len(seen) == 1:
            Path(build_directory, "lock").write_text("")
            raise TimeoutError("waiting for the lock")
        return "built"

    assert install(monkeypatch, fake)("twice", cpp_sources="x") == "built"
    assert len(seen) == 2 and seen[0] != seen[1]
    assert not os.path.exists(seen[0])  # the failed attempt's folder is gone
    assert os.path.isdir(seen[1])  # the build in use is kept for reuse by content


def test_a_failure_that_is_not_a_lock_raises_its_first_error_at_once(
    monkeypatch: pytest.MonkeyPatch, builds: Path
) -> None:
    calls: list[str] = []

    def fake(name: str, *args: Any, build_directory: str, **kwargs: Any) -> str:
        calls.append(build_directory)
        raise RuntimeError("Error building extension 'twice': error: expected ';'")

    with pytest.raises(RuntimeError, match="expected ';'"):
        install(monkeypatch, fake)("twice", cpp_sources="x")
    assert len(calls) == 1 and not os.path.exists(calls[0])


def test_several_lock_failures_keep_the_first_and_note_the_rest(
    monkeypatch: pytest.MonkeyPatch, builds: Path
) -> None:
    count = [0]

    def fake(name: str, *args: Any, build_directory: str, **kwargs: Any) -> str:
        count[0] += 1
        Path(build_directory, "lock").write_text("")
        raise OSError(f"attempt {count[0]}: lock held")

    with pytest.raises(OSError, match="attempt 1: lock held") as caught:
        install(monkeypatch, fake)("twice", cpp_sources="x")
    assert count[0] == 3
    assert any("attempt 2" in n and "attempt 3" in n for n in caught.value.__notes__)
    assert not [p for p in builds.rglob("twice_*") if p.is_dir()]


def test_a_missing_cuda_toolkit_is_the_machines_and_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, builds: Path
) -> None:
    def fake(name: str, *args: Any, build_directory: str, **kwargs: Any) -> str:
        raise OSError("CUDA_HOME environment variable is not set. Please set it to your CUDA install root.")

    with pytest.raises(cuda_build.BuildEnvironmentError) as caught:
        install(monkeypatch, fake)("twice", cuda_sources="x")
    text = str(caught.value)
    assert "this machine cannot build 'twice'" in text and "install one, or set CUDA_HOME" in text
    assert isinstance(caught.value, OSError)  # code that catches torch's OSError still catches it


def test_folders_of_workers_that_are_gone_are_removed_at_start(
    monkeypatch: pytest.MonkeyPatch, builds: Path
) -> None:
    gone = builds / "worker-999999999" / "old_build"
    gone.mkdir(parents=True)
    alive = builds / f"worker-{os.getppid()}" / "kept"
    alive.mkdir(parents=True)
    install(monkeypatch, lambda *a, **k: "built")
    assert not gone.parent.exists() and alive.exists()


def test_a_folder_the_code_chose_is_kept_and_only_its_stale_lock_removed(
    monkeypatch: pytest.MonkeyPatch, builds: Path
) -> None:
    own = builds / "mine"
    own.mkdir()
    seen: list[str] = []

    def fake(name: str, *args: Any, build_directory: str, **kwargs: Any) -> str:
        seen.append(build_directory)
        if len(seen) == 1:
            Path(build_directory, "lock").write_text("")
            raise TimeoutError("waiting for the lock")
        assert not Path(build_directory, "lock").exists()
        return "built"

    assert install(monkeypatch, fake)("twice", cpp_sources="x", build_directory=str(own)) == "built"
    assert seen == [str(own), str(own)] and own.is_dir()
