"""Reference problem (function convention): softmax over long rows, whose outputs are tiny (~1/cols).

With 32768+ columns and inputs of scale 0.1, every output is below float32's default atol (1e-4), so an all-zero answer passes an
elementwise check; the relative error norm check is what rejects it (docs/PITFALLS.md 11).
"""

import torch


def make_inputs():
    return (0.1 * torch.randn(64, 65536),)


def make_cpu_inputs():
    return (0.1 * torch.randn(8, 32768),)


# kernelwright: bench inputs=make_inputs cpu_inputs=make_cpu_inputs
def row_softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=-1)
