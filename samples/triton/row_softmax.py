"""Row-wise softmax in Triton: one program per row, the whole row held in registers.

Function convention on the launcher `softmax`. This is the fused counterpart of
samples/pytorch/softmax_unfused.py: the input is read once and the output written once, so it runs
near memory bandwidth for rows that fit in one block. BLOCK must cover the row, so it is the next power
of two of the row length; `num_warps` is the knob worth searching (more warps for longer rows).
"""

import torch
import triton
import triton.language as tl

ROWS = 4096
COLS = 2048


@triton.jit
def softmax_kernel(out_ptr, in_ptr, in_row_stride, out_row_stride, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(axis=0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    # Padding lanes load -inf so they neither win the max nor add to the sum (exp(-inf) = 0).
    x = tl.load(in_ptr + row * in_row_stride + cols, mask=mask, other=-float("inf"))
    x = x - tl.max(x, axis=0)
    numerator = tl.exp(x)
    denominator = tl.sum(numerator, axis=0)
    tl.store(out_ptr + row * out_row_stride + cols, numerator / denominator, mask=mask)


def make_inputs():
    return (torch.randn(ROWS, COLS),)


def make_small_inputs():
    # 100 columns: not a power of two, so the padding lanes are exercised.
    return (torch.randn(37, 100),)


# kernelwright: bench inputs=make_inputs cpu_inputs=make_small_inputs
def softmax(x: torch.Tensor) -> torch.Tensor:
    n_rows, n_cols = x.shape
    out = torch.empty_like(x)
    block = triton.next_power_of_2(n_cols)
    softmax_kernel[(n_rows,)](out, x, x.stride(0), out.stride(0), n_cols, BLOCK=block, num_warps=4)
    return out
