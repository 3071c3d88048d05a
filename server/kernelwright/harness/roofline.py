"""The roofline floor: bytes that must move (inputs and parameters read once, outputs written once) and
FLOPs (torch's flop counter), against the device's peaks: a datasheet table, or a stored calibration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch

from kernelwright.core.measure import Bound, Calibration, DeviceInfo, PeakSource, Roofline
from kernelwright.harness.compare import flatten


@dataclass(frozen=True)
class Peaks:
    bandwidth: float  # bytes/s
    flops: dict[str, float]  # dense, by dtype name; "float32" is non-tensor-core FP32, "tf32" tensor core


T = 1e12
# Datasheet dense peaks (no sparsity). Order matters: the first name fragment that matches wins.
PEAK_TABLE: tuple[tuple[tuple[str, ...], Peaks], ...] = (
    (("H200",), Peaks(4.8e12, {"bfloat16": 989 * T, "float16": 989 * T, "tf32": 494 * T, "float32": 67 * T})),
    (
        ("H100", "NVL"),
        Peaks(3.9e12, {"bfloat16": 835 * T, "float16": 835 * T, "tf32": 418 * T, "float32": 60 * T}),
    ),
    (
        ("H100", "PCIe"),
        Peaks(2.0e12, {"bfloat16": 756 * T, "float16": 756 * T, "tf32": 378 * T, "float32": 51 * T}),
    ),
    (
        ("H100",),
        Peaks(3.35e12, {"bfloat16": 989 * T, "float16": 989 * T, "tf32": 494 * T, "float32": 67 * T}),
    ),
    (
        ("B200",),
        Peaks(8.0e12, {"bfloat16": 2250 * T, "float16": 2250 * T, "tf32": 1100 * T, "float32": 80 * T}),
    ),
    (
        ("A100", "80GB", "PCIe"),
        Peaks(1.935e12, {"bfloat16": 312 * T, "float16": 312 * T, "tf32": 156 * T, "float32": 19.5 * T}),
    ),
    (
        ("A100", "80GB"),
        Peaks(2.039e12, {"bfloat16": 312 * T, "float16": 312 * T, "tf32": 156 * T, "float32": 19.5 * T}),
    ),
    (
        ("A100",),
        Peaks(1.555e12, {"bfloat16": 312 * T, "float16": 312 * T, "tf32": 156 * T, "float32": 19.5 * T}),
    ),
    (
        ("L40S",),
        Peaks(0.864e12, {"bfloat16": 362 * T, "float16": 362 * T, "tf32": 183 * T, "float32": 91.6 * T}),
    ),
    (("L4",), Peaks(0.3e12, {"bfloat16": 121 * T, "float16": 121 * T, "tf32": 60 * T, "float32": 30.3 * T})),
    (
        ("A10",),
        Peaks(0.6e12, {"bfloat16": 125 * T, "float16": 125 * T, "tf32": 62.5 * T, "float32": 31.2 * T}),
    ),
    (
        ("4090",),
        Peaks(1.008e12, {"bfloat16": 165 * T, "float16": 165 * T, "tf32": 82.6 * T, "float32": 82.6 * T}),
    ),
)


def table_peaks(device_name: str) -> Peaks | None:
    upper = device_name.upper()
    for fragments, peaks in PEAK_TABLE:
        if all(f.upper() in upper for f in fragments):
            return peaks
    return None


def peaks_for(info: DeviceInfo, calibration: Calibration | None) -> tuple[Peaks, PeakSource] | None:
    table = table_peaks(info.name)
    if calibration is not None and calibration.device_name == info.name:
        flops = dict(table.flops) if table else {}
        flops.update(calibration.matmul_flops_per_s)
        return Peaks(calibration.bandwidth_bytes_per_s, flops), PeakSource.CALIBRATED
    if table is not None:
        return table, PeakSource.TABLE
    return None


def _storage_key(t: torch.Tensor) -> tuple[int, int]:
    return (t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())


def moved_bytes(
    args: Any, outputs: Any, module: torch.nn.Module | None = None, skip: tuple[int, ...] = ()
) -> int:
    """Bytes read (inputs, parameters, buffers) plus bytes written (outputs), each storage counted once."""
    seen: set[tuple[int, int]] = set()
    total = 0

    def add(t: torch.Tensor) -> None:
        nonlocal total
        key = _storage_key(t)
        if key in seen:
            return
        seen.add(key)
        total += t.numel() * t.element_size()

    leaves = [a for i, a in enumerate(args) if i not in skip] if isinstance(args, tuple) else [args]
    for _, leaf in flatten(leaves):
        if isinstance(leaf, torch.Tensor):
            add(leaf)
    if module is not None:
        for p in list(module.parameters()) + list(module.buffers()):
            add(p)
    for _, leaf in flatten(outputs):
        if isinstance(leaf, torch.Tensor):
            add(leaf)
    return total


class FlopCount(NamedTuple):
    total: int  # the work the answer needs: torch's count less `masked`
    conv: int  # of which convolutions (cuDNN runs float32 ones as TF32 unless told not to)
    masked: int = 0  # counted by torch, but at positions a mask removes (harness/masked_work.py)


def count_flops(fn: Callable[[], Any]) -> FlopCount | None:
    """FLOPs of one call by torch's flop counter (matmuls, convolutions, attention), less those at masked
    positions (causal attention's upper triangle: MaskedWork); None when it counts nothing (elementwise
    work is memory bound) or cannot run."""
    try:
        from torch.utils.flop_counter import FlopCounterMode

        from kernelwright.harness.masked_work import MaskedWork

        masked = MaskedWork()
        # MaskedWork below the counter: it sees the ops the counter decomposes composites into.
        with torch.inference_mode(), masked, FlopCounterMode(display=False) as counter:
            fn()
        counted = int(counter.get_total_flops())
        ops = counter.get_flop_counts().get("Global", {})
        conv = sum(int(n) for op, n in ops.items() if "conv" in str(op))
    except Exception:
        return None
    if not counted:
        return None
    skipped = min(masked.skipped, counted - conv)
    return FlopCount(counted - skipped, conv, skipped)


def masked_note(flops: FlopCount | None) -> str | None:
    """What a measurement says when the roofline left masked FLOPs out, so the count can be checked."""
    if flops is None or not flops.masked:
        return None
    share = flops.masked / (flops.total + flops.masked)
    return (
        f"roofline: {share:.0%} of the FLOPs torch counts fall on positions a mask removes before the "
        f"softmax (causal or padding); they are not counted as work ({flops.total:.3g} of "
        f"{flops.total + flops.masked:.3g} FLOPs)"
    )


def compute_dtype(args: Any, flops: FlopCount | None = None) -> str:
    """The dtype whose compute peak bounds the call: the inputs' first floating dtype, with float32 read
    as TF32 where torch lets the tensor cores take it (matmuls with allow_tf32; convolutions with cuDNN's
    allow_tf32, on by default): the floor must never claim more time than the device needs."""
    for _, leaf in flatten(args):
        if isinstance(leaf, torch.Tensor) and leaf.is_floating_point():
            name = str(leaf.dtype).replace("torch.", "")
            if name != "float32":
                return name
            conv = flops.conv if flops is not None else 0
            matmul = (flops.total - conv) if flops is not None else 1
            if (matmul and torch.backends.cuda.matmul.allow_tf32) or (
                conv and torch.backends.cudnn.allow_tf32
            ):
                return "tf32"
            return name
    return "float32"


def roofline(
    nbytes: int,
    flops: int | None,
    dtype: str,
    median_us: float,
    info: DeviceInfo,
    calibration: Calibration | None,
) -> Roofline | None:
    found = peaks_for(info, calibration)
    if found is None or median_us <= 0:
        return None
    peaks, source = found
    memory_us = nbytes / peaks.bandwidth * 1e6
    peak_flops = peaks.flops.get(dtype) or peaks.flops.get("float32")
    compute_us = (flops / peak_flops * 1e6) if (flops and peak_flops) else 0.0
    floor = max(memory_us, compute_us)
    return Roofline(
        bytes=nbytes,
        flops=flops,
        floor_us=floor,
        fraction=floor / median_us,
        bound=Bound.COMPUTE if compute_us > memory_us else Bound.MEMORY,
        peak_bandwidth=peaks.bandwidth,
        peak_flops=peak_flops,
        source=source,
        dtype=dtype,
    )


BEYOND_ROOF = 1.1  # a measured time this much under the floor is not believed (table peaks are rounded)


def beyond_roof(r: Roofline | None) -> str | None:
    if r is None or r.fraction <= BEYOND_ROOF:
        return None
    return (
        f"roofline: the measured time is {r.fraction:.2f}x faster than the floor this device allows "
        f"({r.floor_us:.1f} µs for {r.bytes} bytes" + (f" and {r.flops} FLOPs" if r.flops else "") + "): "
        "the result cannot be real (work skipped, cached or hidden from the timer)"
    )
