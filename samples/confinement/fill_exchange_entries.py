"""Attack: exhaust /dev/shm's inodes (and the judge's listing) through the exchange folder instead of its
bytes: from forward, it makes folders of empty files there (found through its worker's session), each
costing memory but no bytes a size cap would count. The engine counts the folder's entries while the
candidate runs and kills it past the cap (WorkerConfig.exchange_cap_entries); if the writes ever stop
without that, it raises saying how many it made."""

import os
import sys

import torch
import torch.nn as nn

SETUP: dict = {}

made: list[int] = []


def flood() -> None:
    folder = getattr(sys.modules["kernelwright.harness." + "candidate_worker"], "_session").exchange_dir
    for d in range(1 << 12):
        sub = os.path.join(folder, f"d{d}")
        os.makedirs(sub, exist_ok=True)
        for n in range(256):
            open(os.path.join(sub, f"f{n}"), "wb").close()
            made.append(n)


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not made:
            try:
                flood()
            except OSError:
                pass
            raise RuntimeError(f"made {len(made)} files in the exchange folder")
        return torch.tanh(x) * 2.0
