"""Outputs as data between two processes: the candidate worker writes them, the judge reads them.

A file holds an 8-byte header length, a JSON header (the output's nesting and each leaf: a tensor's dtype,
shape, device and byte range, or a number) and the tensors' raw bytes. The judge parses it as untrusted
input: every dtype, shape, size and offset is checked against the file and against a size limit derived
from the reference's own outputs, and anything off raises ForgedReply, which the judge turns into a
rejection that names it. Tensors come back as plain torch.Tensor built from the bytes, so nothing the
candidate's process made (a subclass, a lazy view, a pointer into its memory) reaches the judge.

Also here: exact checksums (integer arithmetic), of inputs before and after a call, and of every timed
output (the candidate's commitment to the outputs the judge may later ask for).
"""

from __future__ import annotations

import json
import math
import os
import stat
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from kernelwright.harness.compare import flatten

DTYPES: dict[str, torch.dtype] = {
    "float64": torch.float64,
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "int64": torch.int64,
    "int32": torch.int32,
    "int16": torch.int16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
    "complex64": torch.complex64,
}
for _name in ("float8_e4m3fn", "float8_e5m2"):
    if hasattr(torch, _name):
        DTYPES[_name] = getattr(torch, _name)
_NAMES = {v: k for k, v in DTYPES.items()}
HEADER_LIMIT = 1 << 20
MAX_DEPTH = 8


def read_limit(nbytes: Sequence[int]) -> int:
    """The most bytes the judge reads back for one call's outputs, given the reference's output sizes:
    four times theirs (room for a wrong shape or dtype, which the comparison then names) and 1 MiB."""
    return 4 * sum(nbytes) + (1 << 20)


class ForgedReply(Exception):
    """What the candidate's process sent is not what the judge asked for."""


# ---- writing (the candidate worker) --------------------------------------------------------------------


def _leaf_header(value: Any, tensors: list[torch.Tensor], offset: list[int]) -> Any:
    if isinstance(value, torch.Tensor):
        t = value.detach()
        name = _NAMES.get(t.dtype)
        if name is None:
            raise TypeError(f"outputs of dtype {t.dtype} cannot be compared")
        nbytes = t.numel() * t.element_size()
        leaf = {
            "t": "tensor",
            "dtype": name,
            "shape": list(t.shape),
            "device": t.device.type,
            "class": f"{type(value).__module__}.{type(value).__qualname__}",
            "offset": offset[0],
            "nbytes": nbytes,
        }
        tensors.append(t)
        offset[0] = _aligned(offset[0] + nbytes)
        return leaf
    if isinstance(value, tuple | list):
        return {
            "t": "tuple" if isinstance(value, tuple) else "list",
            "items": [_leaf_header(v, tensors, offset) for v in value],
        }
    if isinstance(value, dict):
        keys = sorted(value, key=str)
        return {
            "t": "dict",
            "keys": [str(k) for k in keys],
            "items": [_leaf_header(value[k], tensors, offset) for k in keys],
        }
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool):
        return {"t": "bool", "value": value}
    if isinstance(value, int):
        return {"t": "int", "value": value}
    if isinstance(value, float):
        return {"t": "float", "value": repr(value)}
    raise TypeError(f"an output of type {type(value).__name__} cannot be sent to the judge")


def write_outputs(path: str, value: Any) -> None:
    """The header (JSON, padded so the bytes after it start aligned), then each tensor's bytes at its
    aligned offset: the judge can view every tensor in the buffer it reads the file into, uncopied."""
    tensors: list[torch.Tensor] = []
    header = json.dumps({"root": _leaf_header(value, tensors, [0])}).encode()
    header += b" " * (_aligned(8 + len(header)) - 8 - len(header))
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        written = 0
        for t in tensors:
            if t.numel():
                f.write(b"\0" * (_aligned(written) - written))
                written = _aligned(written)
                data = t.detach().contiguous().reshape(-1).view(torch.uint8).cpu()
                f.write(data.numpy().data)  # straight from the tensor's host memory
                written += data.numel()


ALIGN = 64  # bytes: enough for any dtype's view, and a cache line


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


# ---- reading (the judge) ------------------------------------------------------------------------------


def read_outputs(
    path: str, device: torch.device, limit_bytes: int, calls: int | None = None
) -> tuple[Any, list[str]]:
    """The outputs in `path` as the judge's own tensors (on `device` where the candidate said they were on
    that kind of device, else on the CPU, so the device check sees it), and the classes other than
    torch.Tensor the candidate's process said its tensors had. ForgedReply if anything is off.
    `calls`: the file holds a list of that many calls' outputs (SEND), one level deeper than one call's,
    with a header as long as theirs together; None: one call's outputs."""
    header_limit = HEADER_LIMIT * (calls or 1)
    try:
        # The candidate's process owns the folder: the name may be a link to a file of the judge's, a FIFO
        # that blocks a reader for ever or a device. Only a plain file of its own, opened without following
        # links or waiting for a writer, is read, and nothing of any other is said back
        # (samples/adversarial/cheat_output_link.py, cheat_output_fifo.py).
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ForgedReply(f"its output file cannot be opened as a plain file: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        raise ForgedReply(
            "its output file is not a plain file of its own (a link, a FIFO, a folder or a device)"
        )
    size = info.st_size
    with os.fdopen(fd, "rb") as f:
        if size > limit_bytes + header_limit + 8:
            raise ForgedReply(f"its output file holds {size} bytes, more than the outputs can take")
        try:
            # One copy, into memory the judge owns (pinned where it goes on to a GPU, uninitialised: no
            # zeroing pass): the tensors are views of it until they move to the device.
            raw = torch.empty(size, dtype=torch.uint8, pin_memory=device.type == "cuda" and size > 0)
            got = f.readinto(raw.numpy().data) if size else 0
        except OSError as exc:
            raise ForgedReply(f"its output file cannot be read: {exc.strerror}") from None
    if got != size:
        raise ForgedReply(f"its output file changed while it was read ({got} of {size} bytes)")
    if len(raw) < 8:
        raise ForgedReply("its output file is shorter than a header")
    (hlen,) = struct.unpack("<Q", raw[:8].numpy().tobytes())
    if hlen > header_limit or 8 + hlen > len(raw):
        raise ForgedReply(f"its output file's header claims {hlen} bytes")
    try:
        header = json.loads(raw[8 : 8 + hlen].numpy().tobytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ForgedReply(f"its output file's header is not JSON: {exc}") from None
    if not isinstance(header, dict) or "root" not in header:
        raise ForgedReply("its output file's header has no outputs")
    data = Payload(raw, 8 + hlen)
    lazy: list[str] = []
    return _rebuild(header["root"], data, device, 0 if calls is None else -1, lazy), lazy


@dataclass(frozen=True)
class Payload:
    """The tensor bytes of an output file: `raw` from `start` on."""

    raw: torch.Tensor  # uint8, the whole file
    start: int

    def __len__(self) -> int:
        return len(self.raw) - self.start


def _rebuild(node: Any, data: Payload, device: torch.device, depth: int, lazy: list[str]) -> Any:
    if depth > MAX_DEPTH or not isinstance(node, dict):
        raise ForgedReply("its output file's header is malformed")
    kind = node.get("t")
    if kind in ("tuple", "list"):
        items = node.get("items")
        if not isinstance(items, list):
            raise ForgedReply("its output file's header is malformed")
        values = [_rebuild(i, data, device, depth + 1, lazy) for i in items]
        return tuple(values) if kind == "tuple" else values
    if kind == "dict":
        keys, items = node.get("keys"), node.get("items")
        if not (isinstance(keys, list) and isinstance(items, list) and len(keys) == len(items)):
            raise ForgedReply("its output file's header is malformed")
        if not all(isinstance(k, str) for k in keys):
            raise ForgedReply("its output file's header is malformed")
        return {k: _rebuild(i, data, device, depth + 1, lazy) for k, i in zip(keys, items, strict=True)}
    if kind == "none":
        return None
    if kind == "bool" and isinstance(node.get("value"), bool):
        return node["value"]
    if kind == "int" and type(node.get("value")) is int:
        return node["value"]
    if kind == "float" and isinstance(node.get("value"), str):
        try:
            return float(node["value"])
        except ValueError:
            raise ForgedReply("its output file holds a float that does not parse") from None
    if kind == "tensor":
        return _tensor(node, data, device, lazy)
    raise ForgedReply(f"its output file's header has a leaf of kind {kind!r}")


def _tensor(node: dict[str, Any], data: Payload, device: torch.device, lazy: list[str]) -> torch.Tensor:
    dtype = DTYPES.get(str(node.get("dtype")))
    shape, offset, nbytes = node.get("shape"), node.get("offset"), node.get("nbytes")
    if dtype is None:
        raise ForgedReply(f"its output file names dtype {node.get('dtype')!r}")
    if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape) and len(shape) <= 16):
        raise ForgedReply("its output file's tensor shape is malformed")
    if type(offset) is not int or type(nbytes) is not int or offset < 0:
        raise ForgedReply("its output file's byte range is malformed")
    itemsize = torch.empty((), dtype=dtype).element_size()
    if math.prod(shape) * itemsize != nbytes or offset + nbytes > len(data):
        raise ForgedReply(f"its output file's tensor {shape} ({node.get('dtype')}) does not fit its bytes")
    begin = data.start + offset
    flat = data.raw[begin : begin + nbytes] if nbytes else None
    if flat is not None and begin % itemsize:
        flat = flat.clone()  # a dtype view needs its bytes aligned for the dtype
    t = flat.view(dtype).reshape(shape) if flat is not None else torch.empty(shape, dtype=dtype)
    if node.get("class") != "torch.Tensor":
        # As the candidate's serialiser reports it: the bytes are what is judged; this names a cause.
        lazy.append(str(node.get("class")))
    where = device if node.get("device") == device.type else torch.device("cpu")
    return t.to(where)


# ---- checksums ------------------------------------------------------------------------------------------

_INT_VIEWS = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
_MASK = (1 << 64) - 1
# Checksums work on CHECKSUM_CHUNK elements at a time: their int64 temporaries are a few chunks' worth,
# whatever the tensor's size (a whole-tensor pass took three int64 copies of it, and cached weights of
# every size it met).
CHECKSUM_CHUNK = 1 << 22
_A, _B, _C = 6364136223846793005, 1442695040888963407, 0x9E3779B97F4A7C15
_base_cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}


def _base(device: torch.device, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """i * A + B (mod 2^64) for i in [0, n) at least, and the first chunk's weights made of it; cached per
    device, as long as the longest chunk asked for so far (at most CHECKSUM_CHUNK: small tensors keep it
    small)."""
    key = str(device)
    cached = _base_cache.get(key)
    if cached is None or cached[0].numel() < n:
        base = torch.arange(n, device=device, dtype=torch.int64) * _A + _B
        cached = _base_cache[key] = (base, (base >> 17) | 1)
    return cached


def _weights(start: int, n: int, device: torch.device) -> torch.Tensor:
    """Fixed pseudo-random odd int64 weights of elements [start, start + n), within one chunk: the
    position in the chunk and the chunk's index both change them, so moved elements change the sum."""
    chunk, offset = divmod(start, CHECKSUM_CHUNK)
    base, first = _base(device, offset + n)
    if chunk == 0:
        return first[offset : offset + n]
    shift = (chunk * _C) & _MASK
    shift -= (1 << 64) if shift >= 1 << 63 else 0  # as int64 (the tensor arithmetic wraps alike)
    return ((base[offset : offset + n] + shift) >> 17) | 1


class PendingChecksums:
    """Checksums of a value's leaves computed on the device, read back later: one synchronise for a whole
    block of calls instead of two per call (less overhead, and less of its noise, around timed calls)."""

    def __init__(self, value: Any) -> None:
        self.parts: list[tuple[str, torch.Tensor | None]] = []
        for _, leaf in flatten(value):
            if isinstance(leaf, torch.Tensor):
                self.parts.append(_pending(leaf))
            else:
                self.parts.append((repr(leaf), None))

    def read(self) -> tuple[str, ...]:
        out = []
        for head, sums in self.parts:
            if sums is None:
                out.append(head)
            else:
                plain, mixed = (int(v) & _MASK for v in sums.tolist())
                out.append(f"{head}:{plain:x}:{mixed:x}")
        return tuple(out)


def _pending(t: torch.Tensor) -> tuple[str, torch.Tensor | None]:
    flat = t.detach().contiguous().reshape(-1)
    if flat.dtype == torch.bool:
        flat = flat.view(torch.uint8)
    elif flat.is_floating_point() or flat.is_complex():
        flat = flat.view(_INT_VIEWS.get(flat.element_size(), torch.uint8))
    head = f"{tuple(t.shape)}{str(t.dtype).replace('torch.', '')}"
    if flat.numel() == 0:
        return head, None
    sums = torch.zeros(2, dtype=torch.int64, device=flat.device)
    for start in range(0, flat.numel(), CHECKSUM_CHUNK):
        part = flat[start : start + CHECKSUM_CHUNK]
        sums[0] += part.sum(dtype=torch.int64)  # int64 arithmetic wraps: the sums are mod 2^64 in any order
        sums[1] += (part.to(torch.int64) * _weights(start, part.numel(), part.device)).sum()
    return head, sums


def checksum(t: torch.Tensor) -> str:
    """An exact checksum of a tensor's bits: its shape, dtype, the plain and a position-weighted sum of
    its elements read as integers, modulo 2^64 (so the same on any device, summed in any order)."""
    return PendingChecksums(t).read()[0]


def checksums(value: Any) -> tuple[str, ...]:
    """One per output leaf: tensors by their bits, other leaves by their repr."""
    return PendingChecksums(value).read()


def input_checksums(args: Sequence[Any], skip: Sequence[int] = ()) -> tuple[str, ...]:
    out: list[str] = []
    for i, a in enumerate(args):
        if i in skip:
            continue
        for _, leaf in flatten(a, f"input {i}"):
            if isinstance(leaf, torch.Tensor):
                out.append(checksum(leaf))
    return tuple(out)
