"""fp16 matrix multiply in Triton with tl.dot and fp32 accumulation, on deliberately small tiles.

Function convention on the launcher `matmul`; `atol`/`rtol` are set because the fp16 output of a
K=4096 dot product rounds differently from cuBLAS's.

Deliberately slow. 32x32 output tiles with BLOCK_K=32 and two pipeline stages give each program little
work per loaded byte: every element of A is read N/32 times and every element of B M/32 times, and
the tensor cores wait on memory. Tiles of 128x128 (or 128x256) with BLOCK_K=64, 3-4 stages and 8
warps, plus grouped program ordering for L2 reuse, reach most of the tensor-core peak.
"""

import torch
import triton
import triton.language as tl

M = 4096
N = 4096
K = 4096


@triton.jit
def matmul_kernel(
    a_ptr,
    b_ptr,
    c_ptr,
    M,
    N,
    K,
    stride_am,
    stride_ak,
    stride_bk,
    stride_bn,
    stride_cm,
    stride_cn,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
):
    pid_m = tl.program_id(axis=0)
    pid_n = tl.program_id(axis=1)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    a_ptrs = a_ptr + offs_m[:, None] * stride_am + offs_k[None, :] * stride_ak
    b_ptrs = b_ptr + offs_k[:, None] * stride_bk + offs_n[None, :] * stride_bn

    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        k_left = K - k * BLOCK_K
        # Out-of-range rows, columns and the K tail load zeros, which add nothing to the dot product.
        a = tl.load(a_ptrs, mask=(offs_m[:, None] < M) & (offs_k[None, :] < k_left), other=0.0)
        b = tl.load(b_ptrs, mask=(offs_k[:, None] < k_left) & (offs_n[None, :] < N), other=0.0)
        acc = tl.dot(a, b, acc)
        a_ptrs += BLOCK_K * stride_ak
        b_ptrs += BLOCK_K * stride_bk

    c_ptrs = c_ptr + offs_m[:, None] * stride_cm + offs_n[None, :] * stride_cn
    c_mask = (offs_m[:, None] < M) & (offs_n[None, :] < N)
    tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty), mask=c_mask)


def make_inputs():
    return torch.randn(M, K, dtype=torch.float16), torch.randn(K, N, dtype=torch.float16)


def make_small_inputs():
    # Not multiples of 32, so every mask has a ragged edge.
    return torch.randn(72, 56, dtype=torch.float16), torch.randn(56, 40, dtype=torch.float16)


def matmul_reference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # The oracle (`reference=`): candidates are checked against torch's matmul, and the roofline counts
    # this function's FLOPs, which torch's flop counter cannot see inside the Triton kernel.
    return a @ b


# kernelwright: bench inputs=make_inputs cpu_inputs=make_small_inputs atol=1e-2 rtol=1e-2 reference=matmul_reference
def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, k = a.shape
    _, n = b.shape
    c = torch.empty((m, n), dtype=a.dtype, device=a.device)

    def grid(meta):
        return (triton.cdiv(m, meta["BLOCK_M"]), triton.cdiv(n, meta["BLOCK_N"]))

    matmul_kernel[grid](
        a,
        b,
        c,
        m,
        n,
        k,
        a.stride(0),
        a.stride(1),
        b.stride(0),
        b.stride(1),
        c.stride(0),
        c.stride(1),
        BLOCK_M=32,
        BLOCK_N=32,
        BLOCK_K=32,
        num_warps=4,
        num_stages=2,
    )
    return c
