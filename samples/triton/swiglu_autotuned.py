"""SwiGLU activation, silu(gate) * up, in Triton under @triton.autotune.

Function convention on the launcher `swiglu`. The autotuner times every config the first time it sees
a new value of the `key` arguments (here the element count) and caches the winner, so the launch site
passes no BLOCK or num_warps: they come from the chosen config, and the grid reads BLOCK from `meta`.
The optimize loop searches this kernel by editing the `configs` list.

The math runs in fp32 (sigmoid of an fp16 value loses precision) and is stored in the input dtype.
"""

import torch
import triton
import triton.language as tl

N = 1 << 24


@triton.autotune(
    configs=[
        triton.Config({"BLOCK": 256}, num_warps=2),
        triton.Config({"BLOCK": 1024}, num_warps=4),
        triton.Config({"BLOCK": 4096}, num_warps=8),
    ],
    key=["n_elements"],
)
@triton.jit
def swiglu_kernel(gate_ptr, up_ptr, out_ptr, n_elements, BLOCK: tl.constexpr):
    pid = tl.program_id(axis=0)
    offsets = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n_elements
    gate = tl.load(gate_ptr + offsets, mask=mask, other=0.0).to(tl.float32)
    up = tl.load(up_ptr + offsets, mask=mask, other=0.0).to(tl.float32)
    out = gate * tl.sigmoid(gate) * up
    tl.store(out_ptr + offsets, out.to(out_ptr.dtype.element_ty), mask=mask)


def make_inputs():
    return torch.randn(N, dtype=torch.float16), torch.randn(N, dtype=torch.float16)


def make_small_inputs():
    return torch.randn(3000, dtype=torch.float16), torch.randn(3000, dtype=torch.float16)


# kernelwright: bench inputs=make_inputs cpu_inputs=make_small_inputs atol=1e-3 rtol=1e-3
def swiglu(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(gate)
    n = out.numel()

    def grid(meta):
        return (triton.cdiv(n, meta["BLOCK"]),)

    swiglu_kernel[grid](gate, up, out, n)
    return out
