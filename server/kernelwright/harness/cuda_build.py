"""Compile CUDA: NVRTC for .cu kernels (cached by source hash), `nvcc --ptx` as a compile-only check on
machines without a GPU, and a load_inline wrapper that gives every build its own content-named directory.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from kernelwright.harness.device import nvcc_path

_LOG_LINE = re.compile(r"\((\d+)\): (?:error|catastrophic error)")


class CompileError(Exception):
    """A CUDA build failed. `line` is 0-based in the person's file; `log` is the compiler's output."""

    def __init__(self, message: str, log: str, line: int | None) -> None:
        super().__init__(message)
        self.log = log
        self.line = line


def first_error_line(log: str) -> int | None:
    """The 0-based line of the first error in an NVRTC or nvcc log (`file(12): error: ...`)."""
    m = _LOG_LINE.search(log)
    return int(m.group(1)) - 1 if m else None


def _first_error_text(log: str) -> str:
    for line in log.splitlines():
        if "error" in line:
            return line.strip()
    return log.strip().splitlines()[0] if log.strip() else "no log"


def check_with_nvcc(source: str, path: str, timeout_s: float = 120.0) -> str | None:
    """Compile to PTX with nvcc (no GPU needed). Raise CompileError on failure; return nvcc's path, or
    None when nvcc is not installed."""
    nvcc = nvcc_path()
    if nvcc is None:
        return None
    with tempfile.TemporaryDirectory(prefix="kw-nvcc-") as tmp:
        # Same base name, so the log reads like the person's file; line numbers are the file's own.
        src = os.path.join(tmp, os.path.basename(path) if path.endswith((".cu", ".cuh")) else "kernel.cu")
        with open(src, "w", encoding="utf-8") as f:
            f.write(source)
        proc = subprocess.run(
            [nvcc, "--ptx", "-o", os.devnull, src],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    if proc.returncode != 0:
        log = (proc.stderr + proc.stdout).replace(src, os.path.basename(path))
        line = first_error_line(log)
        where = f":{line + 1}" if line is not None else ""
        raise CompileError(f"{os.path.basename(path)}{where}: nvcc: {_first_error_text(log)}", log, line)
    return nvcc


_NVRTC_CACHE: dict[tuple[str, str, str], Any] = {}


def nvrtc_kernel(source: str, kernel: str, path: str) -> Any:
    """Compile `kernel` from `source` with NVRTC (through torch), once per (source, kernel, device arch)."""
    major, minor = torch.cuda.get_device_capability()
    key = (hashlib.sha256(source.encode()).hexdigest(), kernel, f"{major}{minor}")
    if key in _NVRTC_CACHE:
        return _NVRTC_CACHE[key]
    try:
        compiled = torch.cuda._compile_kernel(source, kernel)
    except RuntimeError as exc:
        log = str(exc)
        line = first_error_line(log)
        where = f":{line + 1}" if line is not None else ""
        raise CompileError(
            f"{os.path.basename(path)}{where}: NVRTC: {_first_error_text(log)}", log, line
        ) from None
    _NVRTC_CACHE[key] = compiled
    return compiled


_CTYPES: dict[str, Callable[[Any], Any]] = {
    "int32": ctypes.c_int32,
    "int64": ctypes.c_int64,
    "uint32": ctypes.c_uint32,
    "uint64": ctypes.c_uint64,
    "int16": ctypes.c_int16,
    "int8": ctypes.c_int8,
    "uint8": ctypes.c_uint8,
    "bool": ctypes.c_bool,
    "float32": ctypes.c_float,
    "float64": ctypes.c_double,
}


@dataclass(frozen=True)
class LaunchShape:
    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    smem: int


class Launcher:
    """Launches one NVRTC kernel on the current stream with C types taken from the kernel's parameters
    (torch's own launcher passes every Python float as a double, which is wrong for `float` parameters).
    The packed argument array is built once per distinct argument list (the harness rotates through a few
    input sets), so a timed launch is little more than the one cuLaunchKernel call."""

    def __init__(self, kernel: Any, shape: LaunchShape, scalar_dtypes: Sequence[str | None]) -> None:
        from torch.cuda import _utils as cuda_utils

        self.kernel = kernel
        self.shape = shape
        self.scalar_dtypes = tuple(scalar_dtypes)
        self._lib = cuda_utils._get_gpu_runtime_library()
        self._check = cuda_utils._check_cuda
        self._packed: dict[tuple[Any, ...], tuple[Any, list[Any]]] = {}
        if shape.smem >= 48 * 1024:
            kernel.set_shared_memory_config(shape.smem)

    def _pack(self, args: Sequence[Any]) -> Any:
        key = tuple(a.data_ptr() if isinstance(a, torch.Tensor) else (type(a), a) for a in args)
        hit = self._packed.get(key)
        if hit is not None:
            return hit[0]
        keep: list[Any] = []
        for arg, dtype in zip(args, self.scalar_dtypes, strict=True):
            if isinstance(arg, torch.Tensor):
                keep.append(ctypes.c_void_p(arg.data_ptr()))
            else:
                default = "float32" if isinstance(arg, float) else "int32"
                keep.append(_CTYPES.get(dtype or default, ctypes.c_int32)(arg))
        array = (ctypes.c_void_p * len(keep))(*[ctypes.cast(ctypes.byref(v), ctypes.c_void_p) for v in keep])
        if len(self._packed) > 64:  # callers with ever-new buffers: do not grow without bound
            self._packed.clear()
        self._packed[key] = (array, keep)  # `keep` holds the C values the array points into
        return array

    def __call__(self, args: Sequence[Any]) -> None:
        array = self._pack(args)
        stream = torch.cuda.current_stream().cuda_stream
        shape = self.shape
        result = self._lib.cuLaunchKernel(
            self.kernel.func, *shape.grid, *shape.block, shape.smem, ctypes.c_void_p(stream), array, None
        )
        if result != 0:
            self._check(result)


# ---- load_inline -------------------------------------------------------------------------------------


def extensions_root() -> str:
    """Per worker: concurrent builds in one directory collide on lock files (docs/PITFALLS.md 19)."""
    base = os.environ.get("KERNELWRIGHT_BUILD_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "kernelwright", "extensions"
    )
    worker = os.environ.get("KERNELWRIGHT_WORKER_ID", str(os.getpid()))
    root = os.path.join(base, f"worker-{worker}")
    os.makedirs(root, exist_ok=True)
    return root


def _prune_dead_workers() -> None:
    """Remove the build folders of workers that are gone (killed workers never clean up after
    themselves); a live worker's folder, this one's included, is kept for its reuse by content."""
    base = os.path.dirname(extensions_root())
    for entry in os.listdir(base):
        pid = entry.removeprefix("worker-")
        if entry.startswith("worker-") and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(os.path.join(base, entry), ignore_errors=True)


def _content_name(name: str, parts: Sequence[Any]) -> str:
    h = hashlib.sha256(repr(parts).encode()).hexdigest()[:12]
    return f"{re.sub(r'[^A-Za-z0-9_]', '_', name)}_{h}"


# What the machine lacks, not what the candidate got wrong: a build that fails so is not retried.
_MACHINE_PROBLEMS = (
    (
        "CUDA_HOME",
        "this machine has no CUDA toolkit (CUDA_HOME is not set and nvcc is not found): install "
        "one, or set CUDA_HOME to it",
    ),
    ("Ninja is required", "torch's extension builder needs ninja: pip install ninja"),
    ("error: command 'c++' failed", "no working C++ compiler: install g++"),
)


class BuildEnvironmentError(OSError):
    """A load_inline build failed on what this machine lacks (a CUDA toolkit, a compiler), not on the code.
    An OSError, as torch's own error is, so code that catches that still catches this."""


def machine_problem(exc: BaseException) -> str | None:
    """What this machine lacks for a load_inline build that failed with `exc`, or None."""
    text = str(exc)
    return next((fix for needle, fix in _MACHINE_PROBLEMS if needle in text), None)


def _stale_lock(directory: str) -> bool:
    return os.path.exists(os.path.join(directory, "lock"))


def install_load_inline_wrapper(retries: int = 3) -> None:
    """Route candidates' load_inline calls to content-named build directories under this worker's root,
    so an unchanged source reuses its build and different sources never share a directory.

    A build that fails on a lock left by a killed build is retried, each time in a fresh folder (a retry in
    the same folder meets the first attempt's half-built files and fails on those instead); any other
    failure is raised at once. What is raised is always the first error, with a note of the retries; the
    folders of failed attempts are removed."""
    from torch.utils import cpp_extension

    original = cpp_extension.load_inline
    if getattr(original, "_kernelwright", False):
        return
    _prune_dead_workers()

    @functools.wraps(original)
    def load_inline(name: str, *args: Any, **kwargs: Any) -> Any:
        parts = [args, sorted((k, repr(v)) for k, v in kwargs.items())]
        unique = _content_name(name, parts)
        chosen = kwargs.get("build_directory")
        first: BaseException | None = None
        tried: list[str] = []
        for attempt in range(retries):
            directory = chosen or os.path.join(
                extensions_root(), unique if attempt == 0 else f"{unique}-r{attempt}"
            )
            os.makedirs(directory, exist_ok=True)
            try:
                return original(unique, *args, **{**kwargs, "build_directory": directory})  # type: ignore[no-untyped-call]
            except Exception as exc:
                first = first or exc
                tried.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                locked = _stale_lock(directory) or isinstance(exc, TimeoutError)
                if chosen is None:
                    shutil.rmtree(directory, ignore_errors=True)  # a failed build's files help no one
                elif locked:  # the person's own folder: only the stale lock goes, then the same folder
                    with contextlib.suppress(OSError):
                        os.remove(os.path.join(directory, "lock"))
                if not locked or machine_problem(exc) is not None:
                    break
                time.sleep(0.5 * (attempt + 1))
        assert first is not None
        fix = machine_problem(first)
        if fix is not None:
            raise BuildEnvironmentError(
                f"this machine cannot build {name!r}: {fix} (torch: {first})"
            ) from first
        if len(tried) > 1:
            first.add_note(
                "kernelwright: retried in fresh folders, which failed with: " + "; ".join(tried[1:])
            )
        raise first

    load_inline._kernelwright = True  # type: ignore[attr-defined]
    cpp_extension.load_inline = load_inline
