"""Line-level cost: run the site under torch.profiler with Python stacks and attribute each top-level
operator's time (device time of its kernels on CUDA, CPU time on the CPU) to the innermost frame in the
person's file. Also the kernels (or, on the CPU, operators) one call launches, with their times."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from kernelwright.core.measure import KernelTime, LineCost

_FRAME = re.compile(r"^(?P<file>.+)\((?P<line>\d+)\): (?P<func>.*)$")


@dataclass(frozen=True)
class Profile:
    line_costs: tuple[LineCost, ...]
    kernels: tuple[KernelTime, ...]


def _same_file(shown: str, path: str) -> bool:
    shown = shown.replace("\\", "/")
    full = os.path.abspath(path).replace("\\", "/")
    return shown == full or full.endswith("/" + shown.lstrip("./"))


def _device_time(evt: Any) -> float:
    for name in ("device_time_total", "cuda_time_total"):
        value = getattr(evt, name, None)
        if isinstance(value, int | float):
            return float(value)
    return 0.0


def _self_device_time(evt: Any) -> float:
    for name in ("self_device_time_total", "self_cuda_time_total"):
        value = getattr(evt, name, None)
        if isinstance(value, int | float):
            return float(value)
    return 0.0


def _is_python(evt: Any) -> bool:
    name = evt.name
    return bool(_FRAME.match(name)) or name.startswith(("<built-in", "nn.Module:", "torch/"))


def _line_in_file(evt: Any, path: str) -> int | None:
    parent = evt.cpu_parent
    while parent is not None:
        m = _FRAME.match(parent.name)
        if m and _same_file(m.group("file"), path):
            return int(m.group("line")) - 1
        parent = parent.cpu_parent
    return None


def profile_call(fn: Callable[[], Any], path: str, on_cuda: bool, calls: int = 3) -> Profile:
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_cuda else [])
    with torch.inference_mode():
        fn()  # warm: first-call compilation and caching stay out of the profile
        if on_cuda:
            torch.cuda.synchronize()
        with profile(activities=activities, with_stack=True) as prof:
            for _ in range(calls):
                fn()
            if on_cuda:
                torch.cuda.synchronize()
    per_line: dict[int, float] = defaultdict(float)
    per_line_kernels: dict[int, set[str]] = defaultdict(set)
    kernels: dict[str, list[float]] = defaultdict(list)
    total = 0.0
    for evt in prof.events():
        if _is_python(evt):
            continue
        if on_cuda and getattr(evt.device_type, "name", "") == "CUDA":
            kernels[evt.name].append(_self_device_time(evt))
            continue
        parent = evt.cpu_parent
        if parent is not None and not _is_python(parent):
            continue  # nested operator: its time is inside its parent's
        spent = _device_time(evt) if on_cuda else float(evt.cpu_time_total)
        if spent <= 0:
            continue
        if not on_cuda:
            kernels[evt.name].append(spent)
        total += spent
        line = _line_in_file(evt, path)
        if line is not None:
            per_line[line] += spent
            if on_cuda:
                per_line_kernels[line].update(k.name for k in getattr(evt, "kernels", []) or [])
            else:
                per_line_kernels[line].add(evt.name)
    line_costs = tuple(
        LineCost(
            line=line,
            share=t / total if total > 0 else 0.0,
            time_us=t / calls,
            kernels=tuple(sorted(per_line_kernels[line]))[:8],
        )
        for line, t in sorted(per_line.items())
    )
    kernel_times = sorted(
        (
            KernelTime(name=name, time_us=sum(ts) / calls, calls=max(1, round(len(ts) / calls)))
            for name, ts in kernels.items()
        ),
        key=lambda k: -k.time_us,
    )
    return Profile(line_costs, tuple(kernel_times[:20]))
