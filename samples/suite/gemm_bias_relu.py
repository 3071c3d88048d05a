"""A bias-free `nn.Linear`, then a separate bias add, then ReLU: a GEMM with a two-op epilogue.

Eager PyTorch runs the GEMM, writes the (BATCH, OUT) result, then reads and writes it again for the
bias add and once more for the ReLU: two extra passes over a 32 MiB output and two extra launches.
A faster version folds the bias and ReLU into the GEMM epilogue (cuBLASLt's bias+ReLU epilogue, a
Triton matmul with a fused epilogue, or `torch.relu(F.linear(x, w, b))` under torch.compile).
"""

import torch
import torch.nn as nn

BATCH = 2048
IN_FEATURES = 4096
OUT_FEATURES = 4096

CPU_BATCH = 64
CPU_IN_FEATURES = 256
CPU_OUT_FEATURES = 512


class Model(nn.Module):
    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=False)
        self.bias = nn.Parameter(0.1 * torch.randn(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.linear(x)
        x = x + self.bias
        return torch.relu(x)


def get_inputs():
    return [torch.randn(BATCH, IN_FEATURES)]


def get_init_inputs():
    return [IN_FEATURES, OUT_FEATURES]


def get_cpu_inputs():
    return [torch.randn(CPU_BATCH, CPU_IN_FEATURES)]


def get_cpu_init_inputs():
    return [CPU_IN_FEATURES, CPU_OUT_FEATURES]
