"""Cheat: returns a plain output buffer at once and fills it from a background thread, so the call ends
before its work does ("work deferred into the check").

Caught by: value / unwritten on its first trial: what the judge judges are the bytes as the call left
them, handed over at once, and the candidate's process is frozen between the judge's questions, so the
thread cannot catch up while the judge reads.
"""

import threading
import time

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features, features) / features**0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.full((x.shape[0], self.weight.shape[1]), float("nan"), device=x.device)

        def fill() -> None:
            time.sleep(0.05)  # comes back for it later
            with torch.no_grad():
                out.copy_(torch.relu(x @ self.weight))

        threading.Thread(target=fill, daemon=True).start()
        return out
