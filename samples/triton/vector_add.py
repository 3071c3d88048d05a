"""Elementwise vector add in Triton, with a deliberately tiny block.

Function convention: the directive sits on the launcher `add`, which allocates the output and launches
`add_kernel`. The block size and warp count are keyword arguments at the launch site, so the optimize
loop can search them.

Deliberately slow. BLOCK=16 gives each program 16 elements: a million programs for N = 2**24, each too
small to keep enough bytes in flight, and half-empty warps (32 lanes, 16 elements). A block of 1024 to
4096 elements with 4 to 8 warps reaches about 90% of memory bandwidth on a current GPU.
"""

import torch
import triton
import triton.language as tl

N = 1 << 24


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n_elements, BLOCK: tl.constexpr):
    pid = tl.program_id(axis=0)
    offsets = pid * BLOCK + tl.arange(0, BLOCK)
    # The last program may run past the end when n_elements is not a multiple of BLOCK.
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    tl.store(out_ptr + offsets, x + y, mask=mask)


def make_inputs():
    return torch.randn(N), torch.randn(N)


def make_small_inputs():
    # 1000 is not a multiple of any block size, so the masked tail is exercised.
    return torch.randn(1000), torch.randn(1000)


# kernelwright: bench inputs=make_inputs cpu_inputs=make_small_inputs
def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    n = out.numel()

    def grid(meta):
        return (triton.cdiv(n, meta["BLOCK"]),)

    add_kernel[grid](x, y, out, n, BLOCK=16, num_warps=4)
    return out
