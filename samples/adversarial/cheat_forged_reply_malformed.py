"""Cheat: on its first call, writes a malformed line onto the worker's reply fd (found by scanning its
own open file descriptors for the pipe the parent reads), then goes on as if nothing happened.

Caught by: reply (a line the protocol cannot read ends the candidate's worker; the judge rejects, and
neither the CLI nor the language server crashes).
"""

import os
import stat

import torch

_done = False


def _reply_fds():
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and os.get_inheritable(fd) is False and fd > 2:
                yield fd
        except OSError:
            continue


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    global _done
    if not _done:
        _done = True
        for fd in _reply_fds():
            try:
                os.write(fd, b'{"kind": "response", "v": 1, "id": 2, "ok": tru\n')
            except OSError:
                pass
    return torch.softmax(x, dim=-1)
