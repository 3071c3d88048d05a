"""Attack: fill the disk through the scratch folder it is given (TMPDIR), in files under the per-file
size limit. In the box the scratch is a tmpfs with a size cap: the writes stop there with ENOSPC, and it
raises saying how much it wrote."""

import contextlib
import os
import tempfile

import torch
import torch.nn as nn

SETUP: dict = {}

written = 0
chunk = b"\0" * (1 << 20)
with contextlib.suppress(OSError):
    for n in range(1 << 20):
        with open(os.path.join(tempfile.gettempdir(), f"fill-{n}"), "wb") as fh:
            for _ in range(16):
                fh.write(chunk)
                written += len(chunk)
raise RuntimeError(f"wrote {written} bytes to {tempfile.gettempdir()}")


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x) * 2.0
