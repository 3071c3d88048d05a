"""Every CUDA sample compiles to PTX with nvcc, and its directive is complete and evaluates.

The load_inline sample's source string is compiled too: it is read by importing the module (with
load_inline replaced by a function that fails the test, so importing provably builds nothing).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kernelwright.core.expr import eval_int_expr
from support.sample_catalog import (
    FACTORY,
    SampleFolder,
    cuda_directives,
    launch_dims,
    load_module,
    sample_files,
    scalar_values,
)

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

CU_FILES = sample_files(SampleFolder.CUDA, ".cu")
INLINE_SAMPLES = sample_files(SampleFolder.CUDA, ".py")
NVCC = shutil.which("nvcc")
needs_nvcc = pytest.mark.skipif(NVCC is None, reason="nvcc is not on PATH")

_LAUNCH_KEYS = {"grid", "block", "smem", "atol", "rtol"}


def _code_only(source: str) -> str:
    """The source without // and /* */ comments (literals in prose are not code)."""
    return re.sub(r"//[^\n]*|/\*.*?\*/", "", source, flags=re.S)


def test_there_are_enough_cuda_samples() -> None:
    texts = [p.read_text() for p in CU_FILES]
    assert len(texts) >= 5
    assert any("__syncthreads()" in t and "extern __shared__" in t for t in texts)
    assert any(d.get("smem") for t in texts for d in cuda_directives(t))
    assert any("," in (d.get("grid") or "") for t in texts for d in cuda_directives(t)), "no 2-D launch"
    assert INLINE_SAMPLES, "no load_inline sample"


@pytest.mark.parametrize("path", CU_FILES, ids=lambda p: p.name)
def test_directive_is_complete_and_evaluates(path: Path) -> None:
    text = path.read_text()
    directives = cuda_directives(text)
    assert len(directives) == text.count("__global__"), "every kernel has a directive directly above it"
    for d in directives:
        keys = dict(d.keys)
        assert set(d.params) <= keys.keys(), f"{d.kernel}: missing {set(d.params) - keys.keys()}"
        assert keys.keys() <= set(d.params) | _LAUNCH_KEYS, f"{d.kernel}: unknown keys"
        env = scalar_values(d)
        for name in d.params:
            m = FACTORY.match(keys[name])
            if m:
                size = eval_int_expr(m["args"].split(",")[-1], env)
                assert isinstance(size, int) and size > 0, f"{d.kernel}: {name} has size {size}"
        grid = launch_dims(keys["grid"], env)
        block = launch_dims(keys["block"], env)
        assert all(g > 0 for g in grid + block)
        assert block[0] * block[1] * block[2] <= 1024, f"{d.kernel}: {block} threads per block"
        if "smem" in keys:
            assert 0 < eval_int_expr(keys["smem"], env) <= 48 * 1024


@pytest.mark.parametrize("path", CU_FILES, ids=lambda p: p.name)
def test_source_uses_float_not_double(path: Path) -> None:
    _assert_float_only(path.read_text())


def _assert_float_only(source: str) -> None:
    code = _code_only(source)
    assert not re.search(r"\bdouble\b", code)
    unsuffixed = re.findall(r"(?<![\w.])\d+\.\d*(?:[eE][-+]?\d+)?(?![\w.])", code)
    assert not unsuffixed, f"float literals without an f suffix: {unsuffixed}"


@needs_nvcc
@pytest.mark.parametrize("path", CU_FILES, ids=lambda p: p.name)
def test_cu_file_compiles_to_ptx(path: Path, tmp_path: Path) -> None:
    ptx = _nvcc_ptx(path, tmp_path / f"{path.stem}.ptx", [])
    for d in cuda_directives(path.read_text()):
        # extern "C" keeps the name unmangled, which is how NVRTC and the harness find the kernel.
        assert f".entry {d.kernel}(" in ptx


@pytest.fixture
def forbid_builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    cpp_extension = pytest.importorskip("torch.utils.cpp_extension")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the sample built its extension at import time")

    monkeypatch.setattr(cpp_extension, "load_inline", refuse)
    yield


@pytest.mark.parametrize("path", INLINE_SAMPLES, ids=lambda p: p.name)
def test_inline_sample_imports_without_building(path: Path, forbid_builds: None) -> None:
    module = load_module(path)
    assert "__global__" in module.CUDA_SOURCE
    _assert_float_only(module.CUDA_SOURCE)
    assert "cuda_sources=CUDA_SOURCE" in path.read_text(), "the source reaches load_inline through a variable"
    assert callable(module.get_inputs) and callable(module.get_init_inputs)
    module.Model(*module.get_init_inputs())  # constructing the module must not build either


@needs_nvcc
@pytest.mark.parametrize("path", INLINE_SAMPLES, ids=lambda p: p.name)
def test_inline_cuda_source_compiles_to_ptx(path: Path, tmp_path: Path, forbid_builds: None) -> None:
    from torch.utils.cpp_extension import include_paths

    module = load_module(path)
    source = tmp_path / f"{path.stem}.cu"
    source.write_text(module.CUDA_SOURCE)
    includes = [*include_paths(), *_cpu_torch_shim(tmp_path)]
    ptx = _nvcc_ptx(source, tmp_path / f"{path.stem}.ptx", includes)
    kernels = re.findall(r'extern "C" __global__ void (\w+)', module.CUDA_SOURCE)
    assert kernels, 'kernels in inline sources are extern "C" so NVRTC can find them by name'
    for kernel in kernels:
        assert f".entry {kernel}(" in ptx


def _cpu_torch_shim(tmp_path: Path) -> list[str]:
    """CPU wheels of torch ship c10/cuda headers but not their generated cuda_cmake_macros.h; supply it."""
    from torch.utils.cpp_extension import include_paths

    name = Path("c10/cuda/impl/cuda_cmake_macros.h")
    if any((Path(p) / name).exists() for p in include_paths()):
        return []
    shim = tmp_path / "shim"
    (shim / name).parent.mkdir(parents=True)
    (shim / name).write_text("#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n")
    return [str(shim)]


def _nvcc_ptx(source: Path, out: Path, includes: list[str]) -> str:
    assert NVCC is not None
    cmd = [NVCC, "--ptx", "-std=c++17", "-o", str(out), *(f"-I{i}" for i in includes), str(source)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, f"nvcc failed on {source.name}:\n{proc.stderr[-4000:]}"
    return out.read_text()
