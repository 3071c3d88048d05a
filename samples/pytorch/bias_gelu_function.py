"""Bias add + exact (erf) GELU as a plain torch function: the function convention.

The directive above `bias_gelu` names the factories the harness calls for its arguments:
`make_inputs` for a GPU run, `make_small_inputs` for a CPU run. A candidate defines a function with the
same name and signature.

Deliberately slow. Eager torch runs the bias add, the scaling, `erf`, the `1 +`, and the two products as
separate kernels, each a full pass over the (TOKENS, FEATURES) activation. A faster version
(`torch.compile`, or a Triton kernel) does it in one read of `x` (the bias row stays in cache) and one
write.
"""

import math

import torch

TOKENS = 8192
FEATURES = 4096

INV_SQRT2 = 1.0 / math.sqrt(2.0)


def make_inputs():
    return torch.randn(TOKENS, FEATURES), torch.randn(FEATURES)


def make_small_inputs():
    return torch.randn(64, 256), torch.randn(256)


# kernelwright: bench inputs=make_inputs cpu_inputs=make_small_inputs
def bias_gelu(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    y = x + bias
    return 0.5 * y * (1.0 + torch.erf(y * INV_SQRT2))
