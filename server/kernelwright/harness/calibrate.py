"""Measure this GPU's ceilings: device-to-device copy bandwidth (bytes read + written) and dense matmul
throughput by dtype, so roofline fractions use what the card really does rather than its datasheet."""

from __future__ import annotations

import time

import torch

from kernelwright.core.measure import Calibration
from kernelwright.harness.device import Target
from kernelwright.harness.timing import TimingPlan, time_cuda

COPY_BYTES = 1 << 30  # 1 GiB: far beyond any L2
MATMUL_N = 8192


def _copy_bandwidth(target: Target, plan: TimingPlan) -> float:
    src = torch.empty(COPY_BYTES, dtype=torch.uint8, device=target.device)
    dst = torch.empty_like(src)

    def copy(args: tuple[()]) -> None:
        dst.copy_(src)

    stats = time_cuda(copy, [()], target, plan)
    return 2 * COPY_BYTES / (stats.median_us * 1e-6)


def _matmul_flops(target: Target, plan: TimingPlan, dtype: torch.dtype) -> float:
    a = torch.randn(MATMUL_N, MATMUL_N, device=target.device, dtype=dtype)
    b = torch.randn(MATMUL_N, MATMUL_N, device=target.device, dtype=dtype)

    def matmul(args: tuple[()]) -> None:
        torch.mm(a, b)

    stats = time_cuda(matmul, [()], target, plan)
    return 2 * MATMUL_N**3 / (stats.median_us * 1e-6)


def calibrate(target: Target) -> Calibration:
    plan = TimingPlan(warmup=3, repeats=20)
    bandwidth = _copy_bandwidth(target, plan)
    torch.cuda.empty_cache()
    flops = {
        str(dtype).replace("torch.", ""): _matmul_flops(target, plan, dtype)
        for dtype in (torch.bfloat16, torch.float16, torch.float32)
    }
    # float32 on the tensor cores: what cuDNN's float32 convolutions (TF32 by default) run at.
    allowed = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = True
    try:
        flops["tf32"] = _matmul_flops(target, plan, torch.float32)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = allowed
    torch.cuda.empty_cache()
    return Calibration(
        device_name=target.info.name,
        bandwidth_bytes_per_s=bandwidth,
        matmul_flops_per_s=flops,
        measured_at=time.time(),
    )
