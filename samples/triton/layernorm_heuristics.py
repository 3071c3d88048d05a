"""LayerNorm forward in Triton, with the block size chosen by @triton.heuristics.

Function convention on the launcher `layernorm`. One program normalises one row held entirely in
registers, so the block must cover the row: the heuristic derives BLOCK_N from `n_cols` at launch
time instead of every call site computing it. Statistics are accumulated in fp32 whatever the input
dtype. `num_warps` stays a keyword at the launch site for the optimize loop to search.
"""

import torch
import triton
import triton.language as tl

ROWS = 8192
COLS = 1024
EPS = 1e-5


@triton.heuristics({"BLOCK_N": lambda args: triton.next_power_of_2(args["n_cols"])})
@triton.jit
def layernorm_kernel(
    x_ptr, w_ptr, b_ptr, out_ptr, x_row_stride, out_row_stride, n_cols, eps, BLOCK_N: tl.constexpr
):
    row = tl.program_id(axis=0)
    cols = tl.arange(0, BLOCK_N)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * x_row_stride + cols, mask=mask, other=0.0).to(tl.float32)
    mean = tl.sum(x, axis=0) / n_cols
    # Padding lanes must not count towards the variance: zero them after centring.
    centered = tl.where(mask, x - mean, 0.0)
    var = tl.sum(centered * centered, axis=0) / n_cols
    rstd = 1.0 / tl.sqrt(var + eps)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    b = tl.load(b_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    y = centered * rstd * w + b
    tl.store(out_ptr + row * out_row_stride + cols, y.to(out_ptr.dtype.element_ty), mask=mask)


def make_inputs():
    return torch.randn(ROWS, COLS), 1.0 + 0.1 * torch.randn(COLS), 0.1 * torch.randn(COLS)


def make_small_inputs():
    return torch.randn(24, 200), 1.0 + 0.1 * torch.randn(200), 0.1 * torch.randn(200)


# kernelwright: bench inputs=make_inputs cpu_inputs=make_small_inputs atol=1e-5 rtol=1e-5
def layernorm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    n_rows, n_cols = x.shape
    out = torch.empty_like(x)
    layernorm_kernel[(n_rows,)](x, weight, bias, out, x.stride(0), out.stride(0), n_cols, EPS, num_warps=4)
    return out
