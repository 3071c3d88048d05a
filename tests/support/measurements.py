"""Harness result values for tests of the layers above the harness (store, optimize, LSP).

These are inputs to code under test, built the way the harness builds them; they are never presented
as measurements of anything.
"""

from __future__ import annotations

import time

from kernelwright.core.measure import (
    CheckName,
    DeviceInfo,
    DeviceKind,
    Measurement,
    TimingMethod,
    TimingStats,
    Verdict,
    Versions,
)

CPU = DeviceInfo(name="Test CPU", kind=DeviceKind.CPU)
GPU = DeviceInfo(name="NVIDIA H100 80GB HBM3", kind=DeviceKind.CUDA, index=0, sm_count=132)
VERSIONS = Versions(python="3.11.9", torch="2.13.0", triton="3.7.1", cuda=None)


def timing(median_us: float, repeats: int = 50) -> TimingStats:
    return TimingStats(
        median_us=median_us,
        p10_us=median_us * 0.97,
        p90_us=median_us * 1.04,
        mean_us=median_us * 1.01,
        min_us=median_us * 0.95,
        max_us=median_us * 1.2,
        repeats=repeats,
        method=TimingMethod.CPU_PERF_COUNTER,
        host_median_us=median_us * 1.02,
    )


def measurement(
    symbol: str = "Model",
    source_hash: str = "a" * 64,
    median_us: float = 100.0,
    device: DeviceInfo = CPU,
    versions: Versions = VERSIONS,
    created_at: float | None = None,
) -> Measurement:
    return Measurement(
        symbol=symbol,
        source_hash=source_hash,
        device=device,
        timing=timing(median_us),
        versions=versions,
        created_at=time.time() if created_at is None else created_at,
        problem_size="x: float32[64, 64]",
        notes=("CPU timing",),
    )


def passed(median_us: float | None = None, symbol: str = "ModelNew") -> Verdict:
    return Verdict(
        passed=True,
        check=None,
        message="passed 3 trials on CPU (Test CPU)",
        device=CPU,
        trials=3,
        measurement=measurement(symbol=symbol, median_us=median_us) if median_us is not None else None,
    )


def rejected(check: CheckName, message: str) -> Verdict:
    return Verdict(passed=False, check=check, message=message, device=CPU, trials=1)
