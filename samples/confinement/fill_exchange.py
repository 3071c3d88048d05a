"""Attack: fill the machine's memory through the exchange folder, the one place outside its scratch it may
write (memory: a tmpfs), in files under the per-file size limit, at load (found by looking for a writable
folder in /dev/shm). In the box the folder is a tmpfs of WorkerConfig.exchange_cap_bytes: the writes stop
there with ENOSPC, and it raises saying how much it wrote. Where the folder is a bound host folder
instead (the judge cannot read a box's tmpfs), the engine measures it while the candidate runs and kills
it past the cap."""

import contextlib
import os

import torch
import torch.nn as nn

SETUP: dict = {}

written = 0
chunk = b"\0" * (1 << 20)
folders = [
    os.path.join("/dev/shm", name)
    for name in sorted(os.listdir("/dev/shm"))
    if os.path.isdir(os.path.join("/dev/shm", name)) and os.access(os.path.join("/dev/shm", name), os.W_OK)
]
with contextlib.suppress(OSError):
    for n in range(1 << 20):
        with open(os.path.join(folders[-1], f"fill-{n}"), "wb") as fh:
            for _ in range(16):
                fh.write(chunk)
                written += len(chunk)
raise RuntimeError(f"wrote {written} bytes to {folders}")


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x) * 2.0
