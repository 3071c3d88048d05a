"""`x @ weight.t() + bias` followed by the tanh-approximated GELU, with the weight held as a Parameter.

Eager PyTorch materialises the transposed-weight matmul result, adds the bias in a second kernel and
applies GELU in a third, so the 64 MiB (BATCH, OUT) output crosses memory three times. A faster
version is one GEMM (`torch.addmm` or `F.linear`) whose epilogue adds the bias and applies GELU
before the single write, as cuBLASLt's GELU epilogue or a fused Triton matmul does.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 2048
IN_FEATURES = 2048
OUT_FEATURES = 8192

CPU_BATCH = 64
CPU_IN_FEATURES = 256
CPU_OUT_FEATURES = 512


class Model(nn.Module):
    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) * 0.02)
        self.bias = nn.Parameter(0.1 * torch.randn(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x @ self.weight.t() + self.bias
        return F.gelu(y, approximate="tanh")


def get_inputs():
    return [torch.randn(BATCH, IN_FEATURES)]


def get_init_inputs():
    return [IN_FEATURES, OUT_FEATURES]


def get_cpu_inputs():
    return [torch.randn(CPU_BATCH, CPU_IN_FEATURES)]


def get_cpu_init_inputs():
    return [CPU_IN_FEATURES, CPU_OUT_FEATURES]
