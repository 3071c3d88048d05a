"""A three-layer MLP head on a batch of 4: Linear, ReLU, Linear, GELU, Linear, tanh.

At these sizes every kernel finishes in a few microseconds, so eager PyTorch's time is launch and
Python dispatch overhead: six launches (each Linear is a GEMM with the bias in its epilogue) for well
under a megaflop of useful work per row. A faster version removes the per-op overhead: capture the
forward in a CUDA graph (`torch.compile(mode="reduce-overhead")`), or run all three layers in one
kernel that streams the 1.8 MiB of weights through shared memory once.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 4
IN_FEATURES = 256
HIDDEN = 512
OUT_FEATURES = 128

CPU_BATCH = 4
CPU_IN_FEATURES = 128
CPU_HIDDEN = 256
CPU_OUT_FEATURES = 64


class Model(nn.Module):
    def __init__(self, in_features: int, hidden: int, out_features: int):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.fc1(x))
        x = F.gelu(self.fc2(x))
        return torch.tanh(self.fc3(x))


def get_inputs():
    return [torch.randn(BATCH, IN_FEATURES)]


def get_init_inputs():
    return [IN_FEATURES, HIDDEN, OUT_FEATURES]


def get_cpu_inputs():
    return [torch.randn(CPU_BATCH, CPU_IN_FEATURES)]


def get_cpu_init_inputs():
    return [CPU_IN_FEATURES, CPU_HIDDEN, CPU_OUT_FEATURES]
