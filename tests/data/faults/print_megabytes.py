"""A correct candidate that prints about 20 MB: the protocol must neither block nor hold it all."""

import sys

import torch
import torch.nn as nn

LINE = "x" * 1023 + "\n"


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(20 * 1024):
            sys.stdout.write(LINE)
        print("THE LAST LINE", flush=True)
        return x * 2.0 + 1.0
