"""The roofline's masked-FLOP discount on CUDA, where SDPA runs its own kernels (flash, memory-efficient,
cuDNN) and torch's flop counter counts them: causal SDPA counts as the written-out causal attention does.
Run on the device machine: `pytest -q -m gpu tests/gpu/test_masked_work_gpu.py`."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gpu

B, H, T, D = 2, 4, 256, 64
FULL = 4 * B * H * T * T * D
CAUSAL = FULL * (1 - (T - 1) / (2 * T))


@pytest.mark.parametrize("backend", ["FLASH_ATTENTION", "EFFICIENT_ATTENTION", "CUDNN_ATTENTION"])
def test_causal_sdpa_kernels_count_the_causal_work(backend: str) -> None:
    import torch
    import torch.nn.functional as F
    from kernelwright.harness.roofline import count_flops
    from torch.nn.attention import SDPBackend, sdpa_kernel

    q, k, v = (torch.randn(B, H, T, D, device="cuda", dtype=torch.float16) for _ in range(3))
    with sdpa_kernel(getattr(SDPBackend, backend)):
        try:
            F.scaled_dot_product_attention(q, k, v, is_causal=True)
        except RuntimeError as exc:
            pytest.skip(f"{backend} does not run here: {exc}")
        causal = count_flops(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))
        plain = count_flops(lambda: F.scaled_dot_product_attention(q, k, v))
    assert plain is not None and plain.total == FULL and plain.masked == 0
    assert causal is not None and causal.total == pytest.approx(CAUSAL, abs=8)


def test_written_out_causal_attention_on_cuda_counts_the_same() -> None:
    import torch
    from kernelwright.harness.roofline import count_flops

    q, k, v = (torch.randn(B, H, T, D, device="cuda", dtype=torch.float16) for _ in range(3))
    upper = torch.triu(torch.ones(T, T, dtype=torch.bool, device="cuda"), diagonal=1)
    found = count_flops(
        lambda: torch.softmax((q @ k.transpose(-2, -1)).masked_fill(upper, float("-inf")), -1) @ v
    )
    assert found is not None and found.total == pytest.approx(CAUSAL, abs=8)
