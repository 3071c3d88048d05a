"""A candidate that indexes out of bounds on the GPU: a device-side assert poisons the CUDA context, so
every later call in that process fails. The worker must be replaced and the job reported as cuda_fault.
"""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = torch.full((4,), x.numel() + 1000, device=x.device, dtype=torch.long)
        return x[index].sum() + x * 2.0 + 1.0
