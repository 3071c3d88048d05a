"""Cheat: swaps its outputs file for a FIFO (a named pipe) once its worker has written it, so a judge that
opens the file to read it waits for a writer that never comes, until the job's time-out: every candidate
after it in the run waits too. No harness name is touched: a profile hook (sys.setprofile) sees the writer
return and makes the swap there.

Caught by: reply (the judge opens the outputs file without waiting for a writer and reads only a plain
file).
"""

import os
import sys

import torch


def _swap(frame, event, arg):  # type: ignore[no-untyped-def]
    if event == "return" and frame.f_code.co_name.startswith("write_out"):
        path = frame.f_locals.get("path")
        if isinstance(path, str) and os.path.exists(path):
            os.remove(path)
            os.mkfifo(path)


sys.setprofile(_swap)


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=-1)
