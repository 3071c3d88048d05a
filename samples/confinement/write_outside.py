"""Attack: leave files where the person lives: the workspace, the home folder (a dotfile appended to,
a new file), the host's /tmp, the working directory, and through a symlink planted in its own scratch.
It computes the right answer. In the box none of these paths is writable (or there at all)."""

import contextlib
import os
import pathlib
import tempfile

import torch
import torch.nn as nn

SETUP: dict = {}  # filled in by the test: {"workspace": path, "home": path, "token": str}

token = SETUP.get("token", "kw-pwned")
home = pathlib.Path(SETUP.get("home", os.path.expanduser("~")))
targets = [
    pathlib.Path(SETUP.get("workspace", ".")) / f"{token}.txt",
    pathlib.Path(SETUP.get("workspace", ".")) / "sub" / f"{token}.txt",
    home / f"{token}.txt",
    home / ".bashrc",
    pathlib.Path("/tmp") / f"{token}.txt",
    pathlib.Path.cwd() / f"{token}.txt",
]
for target in targets:
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError), open(target, "a") as fh:
        fh.write(f"echo {token}\n")
with contextlib.suppress(OSError):
    link = pathlib.Path(tempfile.gettempdir()) / "link"
    link.symlink_to(home / f"{token}-via-link.txt")
    link.write_text(token)


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x) * 2.0
