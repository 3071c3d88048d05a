"""A MobileNet-style depthwise 3x3 convolution, BatchNorm2d in eval mode, then ReLU6.

The module calls `self.eval()`, so BatchNorm uses its (non-trivial) running statistics: a fixed
per-channel affine map. Eager PyTorch still runs three bandwidth-bound kernels (conv, batch norm,
hardtanh), each reading and writing the 98 MiB feature map. A faster version folds the BatchNorm into
the depthwise weights and a bias at load time and clamps in the same kernel: one read, one write.
"""

import torch
import torch.nn as nn

BATCH = 32
CHANNELS = 256
HEIGHT = 56
WIDTH = 56
KERNEL_SIZE = 3

CPU_BATCH = 2
CPU_CHANNELS = 16
CPU_HEIGHT = 32
CPU_WIDTH = 32


class Model(nn.Module):
    def __init__(self, channels: int, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv2d(
            channels, channels, kernel_size, padding=kernel_size // 2, groups=channels, bias=False
        )
        self.bn = nn.BatchNorm2d(channels)
        self.act = nn.ReLU6()
        with torch.no_grad():
            self.bn.weight.copy_(1.0 + 0.1 * torch.randn(channels))
            self.bn.bias.copy_(0.1 * torch.randn(channels))
            self.bn.running_mean.copy_(0.1 * torch.randn(channels))
            self.bn.running_var.copy_(0.5 + torch.rand(channels))
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


def get_inputs():
    return [torch.randn(BATCH, CHANNELS, HEIGHT, WIDTH)]


def get_init_inputs():
    return [CHANNELS, KERNEL_SIZE]


def get_cpu_inputs():
    return [torch.randn(CPU_BATCH, CPU_CHANNELS, CPU_HEIGHT, CPU_WIDTH)]


def get_cpu_init_inputs():
    return [CPU_CHANNELS, KERNEL_SIZE]
