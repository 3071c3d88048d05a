"""Line attribution from profiler events, with look-alikes of what torch 2.11 reported on an H100:
CUDA profiles carry no Python-function events, only each operator's recorded `stack`, and a Triton
kernel is claimed by no operator (its launcher calls cuLaunchKernelEx itself)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from kernelwright.harness.line_cost import attribute, launch_lines


class Kind(Enum):
    CPU = 0
    CUDA = 1


@dataclass
class Span:
    start: float


@dataclass
class Kern:
    name: str


@dataclass
class Evt:
    name: str
    device_type: Kind = Kind.CPU
    start: float = 0.0
    device_time_total: float = 0.0
    self_device_time_total: float = 0.0
    cpu_time_total: float = 0.0
    kernels: list[Kern] = field(default_factory=list)
    stack: list[str] = field(default_factory=list)
    cpu_parent: Any = None

    @property
    def time_range(self) -> Span:
        return Span(self.start)


PATH = "/work/site/softmax.py"
SOURCE = "import torch\n\n\ndef softmax(x):\n    m = x.amax(-1, keepdim=True)\n    e = (x - m).exp()\n    return e / e.sum(-1, keepdim=True)\n"


def test_operators_are_placed_by_their_recorded_stack() -> None:
    frames = [f"{PATH}(5): softmax", "/usr/lib/python3/runpy.py(88): _run_code"]
    events = [
        Evt("aten::amax", device_time_total=40.0, kernels=[Kern("reduce_kernel")], stack=frames),
        Evt("reduce_kernel", Kind.CUDA, self_device_time_total=40.0),
        Evt("aten::div", device_time_total=20.0, kernels=[Kern("div_kernel")], stack=[f"{PATH}(7): softmax"]),
        Evt("div_kernel", Kind.CUDA, self_device_time_total=20.0),
    ]
    lines, kernels = attribute(events, PATH, SOURCE, on_cuda=True, calls=1)
    assert [(c.line, round(c.share, 3), c.kernels) for c in lines] == [
        (4, 0.667, ("reduce_kernel",)),
        (6, 0.333, ("div_kernel",)),
    ]
    assert {k.name for k in kernels} == {"reduce_kernel", "div_kernel"}


def test_a_triton_kernel_no_operator_claims_goes_to_its_launch_line() -> None:
    source = (
        "def add(x, y):\n    out = torch.empty_like(x)\n"
        "    add_kernel[grid](x, y, out, n, BLOCK=16)\n    return out\n"
    )
    events = [
        Evt("aten::empty_like", stack=[f"{PATH}(2): add"]),
        Evt("cuLaunchKernelEx", start=1.0),
        Evt("add_kernel", Kind.CUDA, start=2.0, self_device_time_total=631.5),
    ]
    lines, kernels = attribute(events, PATH, source, on_cuda=True, calls=1)
    assert [(c.line, c.share, c.time_us, c.kernels) for c in lines] == [(2, 1.0, 631.5, ("add_kernel",))]
    assert kernels[0].name == "add_kernel"


def test_claimed_kernels_are_not_counted_twice() -> None:
    events = [
        Evt("aten::add", device_time_total=10.0, kernels=[Kern("add_kernel")], stack=[f"{PATH}(3): add"]),
        Evt("add_kernel", Kind.CUDA, start=1.0, self_device_time_total=10.0),
    ]
    lines, _ = attribute(events, PATH, "x\ny\nadd_kernel[g](a)\n", on_cuda=True, calls=1)
    assert [(c.line, c.share) for c in lines] == [(2, 1.0)]


def test_frames_of_other_files_do_not_count() -> None:
    events = [Evt("aten::mul", device_time_total=5.0, stack=["/elsewhere/lib.py(3): helper"])]
    lines, _ = attribute(events, PATH, SOURCE, on_cuda=True, calls=1)
    assert lines == ()


def test_launch_lines_find_each_kernel_launch_once() -> None:
    text = "a = b[0]\nk1[grid](x)\nk2[(n,)](y)\nk1[grid](z)\n"
    assert launch_lines(text) == {"k1": 1, "k2": 2}


def test_without_python_stacks_operators_are_tagged_with_their_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    import torch
    from kernelwright.harness import line_cost

    site = tmp_path / "unfused.py"
    site.write_text(
        "import torch\n\n\ndef unfused(x):\n    y = torch.exp(x)\n    z = y * 3.0\n    return torch.softmax(z, -1)\n"
    )
    spec = importlib.util.spec_from_file_location("kw_unfused_site", site)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x = torch.randn(256, 256)
    # What a profile without Python stacks looks like: no event names a frame of the file.
    monkeypatch.setattr(line_cost, "_frames", lambda evt: [])
    result = line_cost.profile_call(
        lambda: module.unfused(x), str(site), on_cuda=False, source=site.read_text()
    )
    assert {c.line for c in result.line_costs} == {4, 5, 6}
    assert abs(sum(c.share for c in result.line_costs) - 1.0) < 1e-6
    by_line = {c.line: c.kernels for c in result.line_costs}
    assert any("exp" in k for k in by_line[4]) and any("softmax" in k for k in by_line[6])


def test_tagged_cuda_profiles_count_each_call_once() -> None:
    from kernelwright.harness.line_cost import LINE_TAG

    inner = Evt("aten::exp", device_time_total=30.0, kernels=[Kern("exp_kernel")])
    tag = Evt(f"{LINE_TAG}4", device_time_total=30.0)
    tag.cpu_children = [inner]  # type: ignore[attr-defined]
    inner.cpu_parent = tag
    outer = Evt("aten::exp", device_time_total=30.0, kernels=[])  # the same call, before the dispatch mode
    events = [outer, tag, inner, Evt("exp_kernel", Kind.CUDA, start=1.0, self_device_time_total=30.0)]
    lines, _ = attribute(events, PATH, SOURCE, on_cuda=True, calls=1)
    assert [(c.line, c.share, c.kernels) for c in lines] == [(4, 1.0, ("exp_kernel",))]
