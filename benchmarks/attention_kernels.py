"""Attention forward kernels at samples/suite's sizes (head dim 64) and at head dim 128, against the
card's own matmul peak measured in the same process: SDPA's backends (cuDNN, FlashAttention-2, memory-
efficient), torch.compile's SDPA, and a Triton flash-attention kernel that computes some or all of its
exponentials on the FMA units instead of the special-function units (the trick of FlashAttention-4: at
head dim 64 each score costs one exponential for 256 matmul FLOPs, and the card's exponential units are
then as busy as its tensor cores). Needs CUDA, torch and triton.

    python benchmarks/attention_kernels.py [--quick]

Prints one row per (shape, kernel): the median of triton.testing.do_bench (µs), TFLOP/s over the FLOPs
the answer needs (a causal mask's skipped products not counted, as FlashAttention counts), the share of
the measured matmul peak of that dtype, and the kernel's largest error against SDPA's math backend in
float32.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
import triton
import triton.language as tl
from torch.nn.attention import SDPBackend, sdpa_kernel


@triton.jit
def _exp2_fma(x):
    """2**x for x <= 0 on the FMA and integer units: x = n + f with n an integer (adding 1.5 * 2**23
    rounds a float32 below 2**22 to one, two additions), 2**f by a cubic (least squares in relative
    error on [-0.5, 0.5], largest 7.7e-5, under float16's rounding of the probabilities the second
    matmul takes), 2**n added into the exponent bits. Triton's kernels see only constexpr globals, so
    the constants are written in."""
    x = tl.maximum(x, -126.0)
    t = x + 12582912.0
    n = t - 12582912.0
    f = x - n
    p = tl.fma(
        tl.fma(tl.fma(f, 0.055088683807511155, 0.24260405145947916), f, 0.6932762416819607),
        f,
        0.9999289403695112,
    )
    bits = p.to(tl.int32, bitcast=True) + (t.to(tl.int32, bitcast=True) << 23)
    return bits.to(tl.float32, bitcast=True)


@triton.jit
def _block(acc, l_i, m_i, q, k_ptrs, v_ptrs, start_n, offs_m, offs_n, qk_scale,
           HEAD_DIM: tl.constexpr, MASKED: tl.constexpr, FMA_EXP: tl.constexpr):  # fmt: skip
    k = tl.load(k_ptrs + start_n * HEAD_DIM)
    qk = tl.dot(q, k)
    if MASKED:
        qk = tl.where(offs_m[:, None] >= (start_n + offs_n)[None, :], qk, float("-inf"))
    m_ij = tl.maximum(m_i, tl.max(qk, 1) * qk_scale)
    qk = qk * qk_scale - m_ij[:, None]
    p = _exp2_fma(qk) if FMA_EXP else tl.math.exp2(qk)
    alpha = tl.math.exp2(m_i - m_ij)
    l_i = l_i * alpha + tl.sum(p, 1)
    acc = acc * alpha[:, None]
    v = tl.load(v_ptrs + start_n * HEAD_DIM)
    acc = tl.dot(p.to(v.dtype), v, acc)
    return acc, l_i, m_ij


@triton.jit
def _attention(Q, K, V, Out, qk_scale, T,
               HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
               CAUSAL: tl.constexpr, FMA_EVERY: tl.constexpr):  # fmt: skip
    """One (batch x head, BLOCK_M rows) tile; FMA_EVERY: 0 all exponentials on the special-function
    units, 1 all on the FMA units, 2 every other key block on the FMA units."""
    start_m = tl.program_id(0)
    base = tl.program_id(1).to(tl.int64) * T * HEAD_DIM
    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    q = tl.load(Q + base + offs_m[:, None] * HEAD_DIM + offs_d[None, :])
    k_ptrs = K + base + offs_n[None, :] * HEAD_DIM + offs_d[:, None]
    v_ptrs = V + base + offs_n[:, None] * HEAD_DIM + offs_d[None, :]
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], tl.float32)
    hi = start_m * BLOCK_M if CAUSAL else T
    if FMA_EVERY == 2:
        pairs_hi = hi // (2 * BLOCK_N) * (2 * BLOCK_N)
        for start_n in range(0, pairs_hi, 2 * BLOCK_N):
            acc, l_i, m_i = _block(acc, l_i, m_i, q, k_ptrs, v_ptrs, start_n, offs_m, offs_n, qk_scale,
                                   HEAD_DIM, False, False)  # fmt: skip
            acc, l_i, m_i = _block(acc, l_i, m_i, q, k_ptrs, v_ptrs, start_n + BLOCK_N, offs_m, offs_n,
                                   qk_scale, HEAD_DIM, False, True)  # fmt: skip
        for start_n in range(pairs_hi, hi, BLOCK_N):  # an odd block left over: at most one
            acc, l_i, m_i = _block(acc, l_i, m_i, q, k_ptrs, v_ptrs, start_n, offs_m, offs_n, qk_scale,
                                   HEAD_DIM, False, False)  # fmt: skip
    else:
        for start_n in range(0, hi, BLOCK_N):
            acc, l_i, m_i = _block(acc, l_i, m_i, q, k_ptrs, v_ptrs, start_n, offs_m, offs_n, qk_scale,
                                   HEAD_DIM, False, FMA_EVERY == 1)  # fmt: skip
    if CAUSAL:
        for start_n in range(start_m * BLOCK_M, (start_m + 1) * BLOCK_M, BLOCK_N):
            acc, l_i, m_i = _block(acc, l_i, m_i, q, k_ptrs, v_ptrs, start_n, offs_m, offs_n, qk_scale,
                                   HEAD_DIM, True, FMA_EVERY == 1)  # fmt: skip
    acc = acc / l_i[:, None]
    tl.store(Out + base + offs_m[:, None] * HEAD_DIM + offs_d[None, :], acc.to(Out.dtype.element_ty))


def triton_attention(
    block_m: int, block_n: int, warps: int, stages: int, fma_every: int
) -> Callable[..., Any]:
    def run(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool) -> torch.Tensor:
        b, h, t, d = q.shape
        o = torch.empty_like(q)
        grid = (t // block_m, b * h)
        _attention[grid](
            q, k, v, o, d**-0.5 * math.log2(math.e), t, d, block_m, block_n, causal, fma_every,
            num_warps=warps, num_stages=stages,
        )  # fmt: skip
        return o

    return run


@dataclass(frozen=True)
class Shape:
    name: str
    batch: int
    heads: int
    seq: int
    dim: int
    dtype: torch.dtype
    causal: bool

    def flops(self) -> float:
        pairs = self.seq * (self.seq + 1) / 2 if self.causal else self.seq * self.seq
        return 4.0 * self.batch * self.heads * pairs * self.dim


SHAPES = (
    Shape("attention_scaled", 4, 16, 2048, 64, torch.bfloat16, False),
    Shape("causal_attention", 8, 16, 1024, 64, torch.float16, True),
    Shape("hd128 non-causal", 4, 16, 2048, 128, torch.bfloat16, False),
    Shape("hd128 causal 4k", 2, 32, 4096, 128, torch.bfloat16, True),
)


def matmul_peak(dtype: torch.dtype) -> float:
    a = torch.randn(8192, 8192, device="cuda", dtype=dtype)
    b = torch.randn(8192, 8192, device="cuda", dtype=dtype)
    ms = triton.testing.do_bench(lambda: a @ b, warmup=100, rep=500)
    return 2 * 8192**3 / (ms * 1e-3)


def sdpa(backend: SDPBackend) -> Callable[..., Any]:
    def run(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool) -> torch.Tensor:
        with sdpa_kernel([backend]):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer Triton configurations")
    parser.add_argument("--shapes", default="", help="comma-separated shape names (default: all)")
    args = parser.parse_args()
    peaks = {dt: matmul_peak(dt) for dt in (torch.float16, torch.bfloat16)}
    print(f"# {torch.cuda.get_device_name()}, torch {torch.__version__}, triton {triton.__version__}")
    print(
        "# matmul peak 8192^3: " + ", ".join(f"{str(d)[6:]} {p / 1e12:.0f} TFLOP/s" for d, p in peaks.items())
    )
    print("| shape | kernel | µs | TFLOP/s | of matmul peak | max error |")
    print("|---|---|---:|---:|---:|---:|")
    compiled = torch.compile(lambda q, k, v, c: F.scaled_dot_product_attention(q, k, v, is_causal=c))
    for shape in SHAPES:
        if args.shapes and shape.name not in args.shapes.split(","):
            continue
        g = torch.Generator(device="cuda").manual_seed(0)
        q, k, v = (
            torch.randn(shape.batch, shape.heads, shape.seq, shape.dim, device="cuda", dtype=shape.dtype,
                        generator=g)
            for _ in range(3)
        )  # fmt: skip
        with sdpa_kernel([SDPBackend.MATH]):
            truth = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=shape.causal)
        kernels: dict[str, Callable[..., Any]] = {
            "sdpa cudnn": sdpa(SDPBackend.CUDNN_ATTENTION),
            "sdpa flash-2": sdpa(SDPBackend.FLASH_ATTENTION),
            "sdpa efficient": sdpa(SDPBackend.EFFICIENT_ATTENTION),
            "compile(sdpa)": compiled,
        }
        if shape.dim == 64 or not args.quick:
            for bn, warps, stages in (
                (64, 4, 3),
                (64, 8, 3),
                (128, 8, 2),
                (128, 8, 3),
                (64, 4, 4),
                (128, 4, 2),
            ):
                if args.quick and (bn, warps, stages) not in ((64, 4, 3), (64, 8, 3), (128, 8, 3)):
                    continue
                for every, label in ((0, "sfu exp"), (2, "half fma exp"), (1, "fma exp")):
                    kernels[f"triton {label} m128 n{bn} w{warps} s{stages}"] = triton_attention(
                        128, bn, warps, stages, every
                    )
        for name, fn in kernels.items():
            try:
                out = fn(q, k, v, shape.causal)
                err = (out.float() - truth).abs().max().item()
                ms = triton.testing.do_bench(
                    lambda fn=fn, args=(q, k, v, shape.causal): fn(*args), warmup=50, rep=300
                )
            except Exception as exc:  # a backend that does not take this shape or dtype
                print(f"| {shape.name} | {name} | — | — | — | {type(exc).__name__}: {str(exc)[:60]} |")
                continue
            tflops = shape.flops() / (ms * 1e-3) / 1e12
            share = shape.flops() / (ms * 1e-3) / peaks[shape.dtype]
            print(
                f"| {shape.name} | {name} | {ms * 1e3:.1f} | {tflops:.0f} | {share:.0%} | {err:.1e} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
