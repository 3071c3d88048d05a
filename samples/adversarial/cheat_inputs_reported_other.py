"""Cheat: rebinds the checksum function its worker reports the drawn inputs with (through sys.modules and a
computed name), so the judge hears of inputs it never drew. A judge that took the candidate's word blamed
the person's input factory (a "problem" verdict, which ends an optimisation) for a difference the
candidate made up.

Caught by: tamper (the judge draws again in its own process: its draws agree with each other, so the
report is the candidate's doing).
"""

import sys

import torch

_worker = sys.modules.get("kernelwright.harness." + "candidate_worker")
if _worker is not None:
    _real = getattr(_worker, "input_" + "checksums")

    def _made_up(args, skip=()):
        return tuple(c[::-1] for c in _real(args, skip))

    setattr(_worker, "input_" + "checksums", _made_up)


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=-1)
