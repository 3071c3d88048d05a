"""Which devices the pool runs workers on, found without importing torch (the server never does).

A CUDA worker is pinned to one GPU through CUDA_VISIBLE_DEVICES, so inside it that GPU is always
`cuda:0`; the parent keeps the name the person used (`cuda:N`, N counted over the parent's visible GPUs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kernelwright.core.errors import UsageError
from kernelwright.core.jobs import check_device
from kernelwright.core.measure import DeviceKind


@dataclass(frozen=True)
class Device:
    kind: DeviceKind
    index: int | None = None  # the parent's visible ordinal; None for the CPU
    physical: str | None = None  # what goes into the worker's CUDA_VISIBLE_DEVICES (an index or UUID)

    @property
    def label(self) -> str:
        """The name the person uses: `cpu` or `cuda:N`."""
        return "cpu" if self.kind is DeviceKind.CPU else f"cuda:{self.index}"

    @property
    def local(self) -> str:
        """The name inside the worker, after pinning."""
        return "cpu" if self.kind is DeviceKind.CPU else "cuda:0"

    @property
    def is_cpu(self) -> bool:
        return self.kind is DeviceKind.CPU


CPU = Device(DeviceKind.CPU)


def visible_gpus(env: Mapping[str, str] | None = None) -> list[str]:
    """The GPUs this process may use, as CUDA_VISIBLE_DEVICES entries; [] without a driver."""
    environ = os.environ if env is None else env
    count = _driver_gpu_count()
    if count == 0:
        return []
    listed = environ.get("CUDA_VISIBLE_DEVICES")
    if listed is None:
        return [str(i) for i in range(count)]
    # An empty list or -1 hides every GPU; entries after an invalid one are ignored by CUDA too.
    entries = [e.strip() for e in listed.split(",") if e.strip()]
    out: list[str] = []
    for entry in entries:
        if entry.startswith("-"):
            break
        out.append(entry)
    return out


def _driver_gpu_count() -> int:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return 0
    try:
        done = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    if done.returncode != 0:
        return 0
    return sum(1 for line in done.stdout.splitlines() if line.startswith("GPU "))


def resolve_devices(request: str | Sequence[str], gpus: Sequence[str] | None = None) -> list[Device]:
    """`auto` -> every visible GPU, else the CPU; `cpu`; `cuda` -> the first GPU; `cuda:N`; or a list.

    Raises UsageError naming the visible GPUs when a GPU is asked for that is not there.
    """
    available = visible_gpus() if gpus is None else list(gpus)
    names = [request] if isinstance(request, str) else list(request)
    if not names:
        raise UsageError("no device given: use auto, cpu, cuda or cuda:N")
    out: list[Device] = []
    for name in names:
        value = check_device(name)
        if value == "auto":
            found = [Device(DeviceKind.CUDA, i, p) for i, p in enumerate(available)] or [CPU]
        elif value == "cpu":
            found = [CPU]
        else:
            index = 0 if value == "cuda" else int(value.split(":")[1])
            if index >= len(available):
                seen = ", ".join(f"cuda:{i}" for i in range(len(available))) or "none"
                raise UsageError(
                    f"device `{name}` is not visible here (GPUs visible: {seen}); "
                    "use --device cpu, or check CUDA_VISIBLE_DEVICES and nvidia-smi"
                )
            found = [Device(DeviceKind.CUDA, index, available[index])]
        out.extend(d for d in found if d not in out)
    return out
