"""A candidate whose Triton kernel reads far outside its buffer without a mask: an illegal memory
access on the GPU (sticky: the context is lost). Under the CPU interpreter it is not run.
"""

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def _bad_copy(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    far = offs.to(tl.int64) * 1_000_000_000  # no mask, and strides of gigabytes
    tl.store(out_ptr + offs, tl.load(x_ptr + far), mask=offs < n)


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        _bad_copy[(triton.cdiv(x.numel(), 128),)](x, out, x.numel(), BLOCK=128)
        torch.cuda.synchronize()
        return out * 2.0 + 1.0
