"""GEMM, then bias add, then ReLU: KernelBench level-2 style ("Gemm_BiasAdd_ReLU").

Module convention (KernelBench): `Model(in_features, out_features)`, `get_inputs`, `get_init_inputs`.

The matmul runs in cuBLAS and dominates; the bias add and the ReLU are two extra elementwise passes
over the (BATCH, OUT_FEATURES) output. A faster version fuses them into the GEMM epilogue
(`torch.addmm` + in-place ReLU, `torch.compile`, or a Triton matmul that applies bias and ReLU before
its store), saving two reads and two writes of the output.
"""

import torch
import torch.nn as nn

BATCH = 1024
IN_FEATURES = 2048
OUT_FEATURES = 2048


class Model(nn.Module):
    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.gemm = nn.Linear(in_features, out_features, bias=False)
        self.bias = nn.Parameter(torch.randn(out_features) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.gemm(x)
        x = x + self.bias
        return torch.relu(x)


def get_inputs():
    return [torch.randn(BATCH, IN_FEATURES)]


def get_init_inputs():
    return [IN_FEATURES, OUT_FEATURES]
