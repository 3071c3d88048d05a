"""A Triton problem without cpu_inputs=: on a machine without a GPU the harness must refuse it (GPU-sized
inputs under the Triton interpreter take hours) and say how to fix it. Not a cheat: a refusal test.
"""

import torch
import triton
import triton.language as tl


@triton.jit
def _double_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, 2 * tl.load(x_ptr + offs, mask=mask), mask=mask)


def make_inputs():
    return (torch.randn(1 << 26),)


# kernelwright: bench inputs=make_inputs
def double(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    _double_kernel[(triton.cdiv(x.numel(), 1024),)](x, out, x.numel(), BLOCK=1024)
    return out
