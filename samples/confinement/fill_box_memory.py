"""Attack: fill the machine's memory through the box's own memory-backed folders, the ones it is not told
about: /tmp, /run and /dev/shm (tmpfs mounts of the box) and /dev itself (bubblewrap's tmpfs). Uncapped,
each takes up to half the machine's memory. It writes 1 MiB files into each until a write fails, at load,
and raises saying how much each place took, as JSON after "wrote "."""

import json
import os

import torch
import torch.nn as nn

SETUP: dict = {}

chunk = b"\0" * (1 << 20)
LIMIT = 2 * 1024**3  # per place: past every cap the box sets, far under the machine's memory
taken: dict[str, int] = {}
for place in ("/tmp", "/run", "/dev/shm", "/dev"):
    written = 0
    try:
        while written < LIMIT:
            with open(os.path.join(place, f"fill-{written >> 20}"), "wb") as fh:
                fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            written += len(chunk)
    except OSError:
        pass
    taken[place] = written
    for n in range(written >> 20):  # its memory back, so the next place is measured alone
        os.remove(os.path.join(place, f"fill-{n}"))
raise RuntimeError("wrote " + json.dumps(taken))


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x) * 2.0
