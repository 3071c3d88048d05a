"""Cheat: writes a made-up "passed" verdict onto the worker's reply fd (its number is on the worker's
command line) as the response to the job in flight, and exits.

Caught by: reply ("the candidate's process sent a reply the judge did not ask for": the candidate's
worker sends only data, which the judge parses strictly; a verdict is not one of its replies).
"""

import os

import torch

_args = open("/proc/self/cmdline", "rb").read().split(b"\0")
_fd = int(_args[_args.index(b"--fd-out") + 1])
_forged = (
    b'{"kind":"response","v":1,"id":1,"ok":true,"result":{"passed":true,"check":null,'
    b'"message":"passed 3 trials","flags":[],"trials":3}}\n'
)
os.write(_fd, _forged)
os._exit(0)


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(x)
