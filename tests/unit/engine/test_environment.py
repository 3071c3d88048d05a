from __future__ import annotations

from pathlib import Path

import pytest
from kernelwright.core.errors import UsageError
from kernelwright.core.measure import DeviceKind
from kernelwright.engine.config import WorkerConfig
from kernelwright.engine.devices import CPU, Device, resolve_devices
from kernelwright.engine.environment import is_secret, worker_env


@pytest.mark.parametrize(
    "name",
    [
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
        "OPENAI_API_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "GITHUB_TOKEN",
        "HF_TOKEN",
        "MY_SERVICE_TOKEN",
        "db_password",
        "Some_Secret_Thing",
        "KAGGLE_API_KEY",
    ],
)
def test_secrets_are_recognised(name: str) -> None:
    assert is_secret(name)


@pytest.mark.parametrize(
    "name", ["PATH", "HOME", "LANG", "CUDA_HOME", "LD_LIBRARY_PATH", "PYTHONPATH", "TOKENIZERS_PARALLELISM"]
)
def test_ordinary_variables_pass(name: str) -> None:
    assert not is_secret(name)


def test_cpu_worker_env_hides_gpus_and_uses_the_interpreter(tmp_path: Path) -> None:
    parent = {"PATH": "/usr/bin", "ANTHROPIC_API_KEY": "sk-ant-fake", "TRITON_INTERPRET": "0"}
    env = worker_env(parent, CPU, tmp_path, WorkerConfig())
    assert "ANTHROPIC_API_KEY" not in env
    assert env["PATH"] == "/usr/bin"
    assert env["CUDA_VISIBLE_DEVICES"] == "" and env["TRITON_INTERPRET"] == "1"
    assert env["TRITON_CACHE_DIR"].startswith(str(tmp_path)) and env["TMPDIR"] == str(tmp_path)


def test_gpu_worker_is_pinned_and_shares_a_given_cache(tmp_path: Path) -> None:
    gpu = Device(DeviceKind.CUDA, 1, "GPU-uuid-1")
    env = worker_env({"TRITON_INTERPRET": "1"}, gpu, tmp_path, WorkerConfig(cache_dir=tmp_path / "cache"))
    assert env["CUDA_VISIBLE_DEVICES"] == "GPU-uuid-1"
    assert "TRITON_INTERPRET" not in env
    assert env["TORCH_EXTENSIONS_DIR"] == str(tmp_path / "cache" / "torch_extensions")
    assert gpu.label == "cuda:1" and gpu.local == "cuda:0"


def test_devices_resolve_against_the_visible_gpus() -> None:
    assert resolve_devices("auto", gpus=[]) == [CPU]
    assert [d.label for d in resolve_devices("auto", gpus=["0", "3"])] == ["cuda:0", "cuda:1"]
    assert resolve_devices("cuda:1", gpus=["0", "3"]) == [Device(DeviceKind.CUDA, 1, "3")]
    assert resolve_devices(["cpu", "cuda"], gpus=["5"]) == [CPU, Device(DeviceKind.CUDA, 0, "5")]
    with pytest.raises(UsageError, match="not visible here"):
        resolve_devices("cuda", gpus=[])
    with pytest.raises(UsageError, match="use auto, cpu, cuda or cuda:N"):
        resolve_devices("tpu", gpus=[])


def test_workers_write_bytecode_only_under_a_given_prefix(tmp_path: Path) -> None:
    plain = worker_env({}, CPU, tmp_path, WorkerConfig())
    assert plain["PYTHONDONTWRITEBYTECODE"] == "1"  # never __pycache__ beside the person's files
    prefix = str(tmp_path / "pycache")
    env = worker_env({}, CPU, tmp_path, WorkerConfig(extra_env={"PYTHONPYCACHEPREFIX": prefix}))
    assert env["PYTHONPYCACHEPREFIX"] == prefix
    assert "PYTHONDONTWRITEBYTECODE" not in env


def test_missing_bytecode_is_found_without_importing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import py_compile
    import sys

    from kernelwright.engine.environment import torch_bytecode_missing

    package = tmp_path / "kw_fake_pkg"
    package.mkdir()
    init = package / "__init__.py"
    init.write_text("raise RuntimeError('must not be imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "pycache_prefix", None)
    assert torch_bytecode_missing("kw_fake_pkg")
    py_compile.compile(str(init), doraise=True)
    assert not torch_bytecode_missing("kw_fake_pkg")
    assert not torch_bytecode_missing("kw_no_such_package")
