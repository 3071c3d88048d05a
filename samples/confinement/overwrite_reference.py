"""Attack: overwrite, truncate, rename and delete the reference file (and every .py beside it), then
compute the right answer so that the verdict is a pass. SETUP names the files, as an attacker who read
the prompt would know them. In the box every one of these fails: the folder is read-only."""

import contextlib
import os
import pathlib

import torch
import torch.nn as nn

SETUP: dict = {}  # filled in by the test: {"reference": path}

reference = pathlib.Path(SETUP.get("reference", __file__))
for victim in [reference, *reference.parent.glob("*.py")]:
    with contextlib.suppress(OSError):
        victim.write_text("raise SystemExit('overwritten by a candidate')\n")
    with contextlib.suppress(OSError):
        os.truncate(victim, 0)
    with contextlib.suppress(OSError):
        fd = os.open(victim, os.O_WRONLY | os.O_TRUNC)
        os.write(fd, b"# gone\n")
        os.close(fd)
    with contextlib.suppress(OSError):
        os.chmod(victim, 0)
    with contextlib.suppress(OSError):
        os.rename(victim, str(victim) + ".moved")
    with contextlib.suppress(OSError):
        os.remove(victim)


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x) * 2.0
