"""A 3x3 `nn.Conv2d` with bias on an NCHW feature map, followed by a separate ReLU.

Eager PyTorch runs the cuDNN convolution (bias included), writes the 196 MiB output, then launches
an elementwise ReLU that reads and writes it again: one extra full pass over the largest tensor in
the problem. A faster version applies the ReLU in the convolution's epilogue (cuDNN's fused
conv-bias-activation, or a Triton/CUTLASS implicit GEMM), ideally in channels_last layout.
"""

import torch
import torch.nn as nn

BATCH = 32
IN_CHANNELS = 64
OUT_CHANNELS = 128
HEIGHT = 112
WIDTH = 112
KERNEL_SIZE = 3

CPU_BATCH = 2
CPU_IN_CHANNELS = 8
CPU_OUT_CHANNELS = 16
CPU_HEIGHT = 32
CPU_WIDTH = 32


class Model(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return torch.relu(x)


def get_inputs():
    return [torch.randn(BATCH, IN_CHANNELS, HEIGHT, WIDTH)]


def get_init_inputs():
    return [IN_CHANNELS, OUT_CHANNELS, KERNEL_SIZE]


def get_cpu_inputs():
    return [torch.randn(CPU_BATCH, CPU_IN_CHANNELS, CPU_HEIGHT, CPU_WIDTH)]


def get_cpu_init_inputs():
    return [CPU_IN_CHANNELS, CPU_OUT_CHANNELS, KERNEL_SIZE]
