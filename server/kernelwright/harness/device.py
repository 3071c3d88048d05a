"""Which device a job runs on, what it is, and which library versions measured on it."""

from __future__ import annotations

import os
import platform
import re
import resource
import shutil
import sys
from dataclasses import dataclass

import torch

from kernelwright.core.measure import DeviceInfo, DeviceKind, Versions
from kernelwright.harness.faults import is_out_of_memory


class NoGpuError(Exception):
    """The job asked for CUDA on a machine (or worker) without one."""


@dataclass(frozen=True)
class Target:
    """The resolved device: `torch.device` plus what we know about it."""

    device: torch.device
    info: DeviceInfo

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def kind(self) -> DeviceKind:
        return DeviceKind.CUDA if self.is_cuda else DeviceKind.CPU


def resolve(request: str) -> Target:
    """`auto` -> the worker's CUDA device if any, else the CPU; `cuda[:N]` without CUDA -> NoGpuError."""
    if request == "cpu":
        return Target(torch.device("cpu"), cpu_info())
    if request == "auto":
        if torch.cuda.is_available():
            return _cuda_target(torch.cuda.current_device())
        return Target(torch.device("cpu"), cpu_info())
    if not torch.cuda.is_available():
        raise NoGpuError(
            f"device `{request}` was asked for, but this worker sees no CUDA GPU "
            f"(torch {torch.__version__}, CUDA {torch.version.cuda}); use --device cpu, or a GPU machine"
        )
    index = int(request.split(":", 1)[1]) if ":" in request else torch.cuda.current_device()
    count = torch.cuda.device_count()
    if index >= count:
        raise NoGpuError(f"device `{request}` does not exist: this worker sees {count} GPU(s), cuda:0..")
    return _cuda_target(index)


def _cuda_target(index: int) -> Target:
    torch.cuda.set_device(index)
    return Target(torch.device("cuda", index), cuda_info(index))


def cuda_info(index: int) -> DeviceInfo:
    props = torch.cuda.get_device_properties(index)
    free, total = torch.cuda.mem_get_info(index)
    clock_mhz = getattr(props, "clock_rate", None)  # kHz in some builds, absent in others
    mem_clock = getattr(props, "memory_clock_rate", None)
    return DeviceInfo(
        name=str(props.name),
        kind=DeviceKind.CUDA,
        index=index,
        sm_count=int(props.multi_processor_count),
        memory_bytes=int(total),
        free_memory_bytes=int(free),
        l2_bytes=int(getattr(props, "L2_cache_size", 0)) or None,
        compute_capability=f"{props.major}.{props.minor}",
        sm_clock_mhz=int(clock_mhz) // 1000 if isinstance(clock_mhz, int) and clock_mhz > 0 else None,
        memory_clock_mhz=int(mem_clock) // 1000 if isinstance(mem_clock, int) and mem_clock > 0 else None,
    )


def cpu_info() -> DeviceInfo:
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return DeviceInfo(name=f"{name} x{os.cpu_count() or 1}", kind=DeviceKind.CPU)


def all_cuda_devices() -> tuple[DeviceInfo, ...]:
    if not torch.cuda.is_available():
        return ()
    return tuple(cuda_info(i) for i in range(torch.cuda.device_count()))


def versions() -> Versions:
    triton_version: str | None
    try:
        import triton

        triton_version = str(triton.__version__)
    except Exception:  # triton absent or broken: the harness still runs torch and CUDA code
        triton_version = None
    driver: str | None = None
    if torch.cuda.is_available():
        try:
            driver = str(torch.cuda.driver_version()) if hasattr(torch.cuda, "driver_version") else None
        except Exception:
            driver = None
    return Versions(
        python=sys.version.split()[0],
        torch=str(torch.__version__),
        triton=triton_version,
        cuda=torch.version.cuda,
        driver=driver,
    )


def nvcc_path() -> str | None:
    for candidate in (shutil.which("nvcc"), "/usr/local/cuda/bin/nvcc", "/usr/local/bin/nvcc"):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def ncu_path() -> str | None:
    for candidate in (shutil.which("ncu"), "/usr/local/cuda/bin/ncu"):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def triton_interpreted() -> bool:
    return os.environ.get("TRITON_INTERPRET", "") == "1"


# ---- memory: what is free, what an allocation asked for -------------------------------------------------

_ASKED = (
    re.compile(r"Tried to allocate ([\d.]+) (GiB|MiB|KiB|B)"),  # CUDA's caching allocator
    re.compile(r"you tried to allocate (\d+) bytes"),  # the CPU allocator
)
_UNITS = {"GiB": 2**30, "MiB": 2**20, "KiB": 2**10, "B": 1}


def free_bytes(target: Target) -> int | None:
    """Memory free now on the target: the GPU's by the driver, the CPU's as the kernel's MemAvailable."""
    if target.is_cuda:
        try:
            free, _ = torch.cuda.mem_get_info(target.device)
            return int(free)
        except Exception:
            return None
    available = _proc_field("/proc/meminfo", "MemAvailable:")
    # A CPU worker runs under RLIMIT_AS (engine.config): what it may still map is the limit less its size.
    limit, _ = resource.getrlimit(resource.RLIMIT_AS)
    size = _proc_field("/proc/self/status", "VmSize:")
    room = limit - size if limit != resource.RLIM_INFINITY and size is not None else None
    known = [b for b in (available, room) if b is not None]
    return max(0, min(known)) if known else None


def _proc_field(path: str, key: str) -> int | None:
    """A `kB` field of a /proc file, in bytes."""
    try:
        with open(path) as info:
            for line in info:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def asked_bytes(exc: BaseException) -> int | None:
    """How much the failed allocation asked for, where the allocator's message says."""
    text = str(exc)
    for pattern in _ASKED:
        m = pattern.search(text)
        if m:
            unit = _UNITS[m.group(2)] if m.lastindex and m.lastindex >= 2 else 1
            return int(float(m.group(1)) * unit)
    return None


def gib(nbytes: int) -> str:
    return f"{nbytes / 2**30:.2f} GiB"


def needs_a_gpu(exc: BaseException, target: Target) -> str | None:
    """Why code that raised `exc` on the CPU needs a GPU instead, or None when that is not its error."""
    if target.is_cuda:
        return None
    if "active drivers" in str(exc) and "There should only be one" in str(exc):
        return (
            "Triton found no GPU driver: its autotuner (@triton.autotune) benchmarks configs on a GPU, which "
            "the CPU's Triton interpreter cannot; measure it on a GPU machine"
        )
    return None


def machine_lacks(exc: BaseException, target: Target, who: str) -> tuple[str, str] | None:
    """Whether `who`'s exception is what this machine lacks, not a fault of the code: ("memory", why) when
    it does not fit, ("no_gpu", why) when it needs a GPU; None otherwise. The kinds are the values of both
    core.measure.ErrorStage (bench) and CheckName (verify)."""
    if is_out_of_memory(exc):
        return "memory", does_not_fit(exc, target, who)
    gpu = needs_a_gpu(exc, target)
    if gpu is not None:
        return "no_gpu", f"{who} needs a GPU: {gpu}"
    return None


def does_not_fit(exc: BaseException, target: Target, who: str) -> str:
    """'the problem does not fit on DEVICE: WHO asked for N GiB with M GiB free; ...' and the fix."""
    asked = asked_bytes(exc)
    free = free_bytes(target)
    ask = f"asked for {gib(asked)}" if asked is not None else "ran out of memory"
    room = f" with {gib(free)} free" if free is not None else ""
    return (
        f"the problem does not fit on {target.info.name}: {who} {ask}{room} "
        f"({str(exc).splitlines()[0][:200]}). Use smaller inputs (or cpu_inputs=) for this device."
    )
