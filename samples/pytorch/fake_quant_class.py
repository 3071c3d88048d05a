"""Group-wise int8 fake quantization as a callable class: the function convention for classes.

`init=make_init` names the factory of constructor arguments; the harness builds
`GroupFakeQuant(*make_init())` once and then calls the instance with the inputs. The constructor takes
plain numbers, so one instance serves the GPU-sized and the CPU-sized inputs alike. A candidate
defines a class with the same name, constructor and call signature.

Quantize-then-dequantize is how quantization-aware training and weight-only int8 studies simulate
int8 storage while keeping float math: every GROUP consecutive values share one scale, the absolute
maximum of the group mapped to 127.

Deliberately slow. abs, amax, the scale, the division, round, clamp and the final product are seven
eager kernels, each a pass over the whole tensor. A faster version is one fused kernel (a program per
block of groups, the group max kept in registers) that reads `x` once and writes the result once.
"""

import torch

ROWS = 8192
COLS = 4096
GROUP = 128


def make_init():
    return GROUP, 8


def make_inputs():
    return (torch.randn(ROWS, COLS),)


def make_small_inputs():
    return (torch.randn(16, 512),)


# kernelwright: bench inputs=make_inputs cpu_inputs=make_small_inputs init=make_init atol=1e-5 rtol=1e-5
class GroupFakeQuant:
    def __init__(self, group_size: int, bits: int):
        self.group_size = group_size
        self.qmax = 2 ** (bits - 1) - 1

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        groups = x.reshape(-1, self.group_size)
        # A group of zeros would give a zero scale; the floor keeps the division finite.
        scale = groups.abs().amax(dim=1, keepdim=True).clamp_min(1e-8) / self.qmax
        q = torch.clamp(torch.round(groups / scale), -self.qmax - 1, self.qmax)
        return (q * scale).reshape(x.shape)
