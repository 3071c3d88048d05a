"""Outputs as files between the candidate's process and the judge (harness/exchange.py): what is written
comes back bit for bit, and a file the candidate's process forged or damaged is refused by name."""

from __future__ import annotations

import json
import os
import struct
import time
from pathlib import Path

import pytest
import torch
from kernelwright.harness.exchange import (
    ALIGN,
    HEADER_LIMIT,
    MAX_DEPTH,
    ForgedReply,
    checksums,
    read_outputs,
    write_outputs,
)

CPU = torch.device("cpu")


def _roundtrip(value: object, tmp_path: Path) -> object:
    path = tmp_path / "out"
    write_outputs(str(path), value)
    back, lazy = read_outputs(str(path), CPU, 1 << 24)
    assert lazy == []
    return back


def test_every_kind_of_leaf_comes_back_bit_for_bit(tmp_path: Path) -> None:
    value = (
        torch.arange(3, dtype=torch.int8),
        {"b": 3, "a": torch.randn(5, dtype=torch.float64)},
        torch.empty(0),
        torch.full((7,), float("nan"), dtype=torch.bfloat16),
        [None, True, 2.5],
        torch.randn(2, 3, 4)[:, 1],  # not contiguous
    )
    back = _roundtrip(value, tmp_path)
    assert checksums(back) == checksums(value)
    assert isinstance(back, tuple) and isinstance(back[4], list) and back[4] == [None, True, 2.5]


def test_tensors_start_aligned_so_the_judge_views_them_uncopied(tmp_path: Path) -> None:
    path = tmp_path / "out"
    write_outputs(str(path), (torch.ones(3, dtype=torch.int8), torch.ones(5, dtype=torch.float64)))
    raw = path.read_bytes()
    (hlen,) = struct.unpack("<Q", raw[:8])
    assert (8 + hlen) % ALIGN == 0
    offsets = [leaf["offset"] for leaf in json.loads(raw[8 : 8 + hlen])["root"]["items"]]
    assert all(o % ALIGN == 0 for o in offsets)


def _forge(path: Path, header: object, payload: bytes) -> None:
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + payload)


def _tensor_leaf(**over: object) -> dict[str, object]:
    leaf = {"t": "tensor", "dtype": "float32", "shape": [2], "device": "cpu", "class": "torch.Tensor"}
    leaf.update({"offset": 0, "nbytes": 8})
    leaf.update(over)
    return leaf


def test_several_calls_outputs_come_back_in_one_file_at_one_call_s_depth_limit(tmp_path: Path) -> None:
    """SEND writes the outputs of the timed calls the judge picked as one list: an output nested as deep
    as one call's may be is read inside it (`calls`), and the same list is too deep read as one call's."""
    deepest: object = torch.arange(3.0)
    for _ in range(MAX_DEPTH):
        deepest = (deepest,)
    path = tmp_path / "timed-1.out"
    write_outputs(str(path), [deepest, deepest])
    back, _ = read_outputs(str(path), CPU, 1 << 20, calls=2)
    assert isinstance(back, list) and len(back) == 2
    assert [checksums(b) for b in back] == [checksums(deepest)] * 2
    with pytest.raises(ForgedReply, match="malformed"):
        read_outputs(str(path), CPU, 1 << 20)


def test_a_send_of_several_calls_may_have_their_headers_together(tmp_path: Path) -> None:
    """Each call's header may be up to HEADER_LIMIT; a SEND of four calls holds four of them, so a header
    that one call could not have is read as four calls' and refused as one's."""
    leaves = HEADER_LIMIT // 150  # tensors whose header entries are about 150 bytes: near one call's limit
    one_call = [torch.zeros(1) for _ in range(leaves)]
    path = tmp_path / "timed-1.out"
    write_outputs(str(path), [one_call] * 4)
    (hlen,) = struct.unpack("<Q", path.read_bytes()[:8])
    assert HEADER_LIMIT < hlen <= 4 * HEADER_LIMIT
    back, _ = read_outputs(str(path), CPU, 1 << 24, calls=4)
    assert isinstance(back, list) and len(back) == 4 and len(back[3]) == leaves
    with pytest.raises(ForgedReply, match="header claims"):
        read_outputs(str(path), CPU, 1 << 24, calls=1)


def test_a_tensor_at_an_unaligned_offset_is_read_right(tmp_path: Path) -> None:
    path = tmp_path / "out"
    want = torch.tensor([1.5, -2.0])
    _forge(path, {"root": _tensor_leaf(offset=3)}, b"\0\0\0" + want.numpy().tobytes())
    back, _ = read_outputs(str(path), CPU, 1 << 20)
    assert torch.equal(back, want)


@pytest.mark.parametrize(
    ("header", "payload", "cause"),
    [
        ({"root": _tensor_leaf(nbytes=16)}, bytes(8), "does not fit its bytes"),
        ({"root": _tensor_leaf(shape=[3])}, bytes(8), "does not fit its bytes"),
        ({"root": _tensor_leaf(offset=-1)}, bytes(8), "byte range is malformed"),
        ({"root": _tensor_leaf(dtype="object")}, bytes(8), "names dtype"),
        ({"root": _tensor_leaf(shape=[-2])}, bytes(8), "shape is malformed"),
        ({"root": {"t": "pickle", "value": "x"}}, b"", "leaf of kind"),
        ({"nothing": 1}, b"", "has no outputs"),
        ({"root": {"t": "float", "value": "fast"}}, b"", "does not parse"),
    ],
)
def test_a_forged_file_is_refused_by_name(tmp_path: Path, header: object, payload: bytes, cause: str) -> None:
    path = tmp_path / "out"
    _forge(path, header, payload)
    with pytest.raises(ForgedReply, match=cause):
        read_outputs(str(path), CPU, 1 << 20)


def test_damaged_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.write_bytes(b"\1\2")
    with pytest.raises(ForgedReply, match="shorter than a header"):
        read_outputs(str(path), CPU, 1 << 20)
    path.write_bytes(struct.pack("<Q", 1 << 40))
    with pytest.raises(ForgedReply, match="header claims"):
        read_outputs(str(path), CPU, 1 << 20)
    path.write_bytes(struct.pack("<Q", 3) + b"{x}")
    with pytest.raises(ForgedReply, match="not JSON"):
        read_outputs(str(path), CPU, 1 << 20)
    write_outputs(str(path), torch.zeros(1 << 19))  # 2 MiB: past the limit and a header
    with pytest.raises(ForgedReply, match="more than the outputs can take"):
        read_outputs(str(path), CPU, 1 << 10)
    with pytest.raises(ForgedReply, match="cannot be opened"):
        read_outputs(str(tmp_path / "missing"), CPU, 1 << 20)


def test_only_a_plain_file_of_its_own_is_read_and_nothing_of_another_is_quoted(tmp_path: Path) -> None:
    """The candidate owns the exchange folder: its outputs file may be a link to one of the judge's files
    (which a judge that follows it would read and quote), a second name of another file, or a FIFO (on
    which a plain open waits for a writer until the job's time-out)."""
    secret = tmp_path / "judge_secret"
    secret.write_bytes(struct.pack("<Q", 0x5EC7E7) + b"the judge's own bytes")
    out = tmp_path / "out"
    forms = {
        "absolute link": lambda: out.symlink_to(secret),
        "relative link": lambda: out.symlink_to(secret.name),
        "link to a FIFO": lambda: (os.mkfifo(tmp_path / "pipe"), out.symlink_to(tmp_path / "pipe")),
        "hard link": lambda: os.link(secret, out),
        "FIFO": lambda: os.mkfifo(out),
        "folder": lambda: out.mkdir(),
    }
    for form, make in forms.items():
        for leftover in (out, tmp_path / "pipe"):
            if leftover.is_dir() and not leftover.is_symlink():
                leftover.rmdir()
            elif leftover.exists() or leftover.is_symlink():
                leftover.unlink()
        make()
        started = time.monotonic()
        with pytest.raises(ForgedReply) as caught:
            read_outputs(str(out), CPU, 1 << 20)
        assert time.monotonic() - started < 5, form
        message = str(caught.value)
        assert "not a plain file" in message or "cannot be opened" in message, (form, message)
        assert str(0x5EC7E7) not in message and str(secret.stat().st_size) not in message, (form, message)
