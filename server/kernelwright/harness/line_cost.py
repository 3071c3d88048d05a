"""Line-level cost: run the site under torch.profiler with Python stacks and attribute each top-level
operator's time (device time of its kernels on CUDA, CPU time on the CPU) to the innermost frame in the
person's file. Where the profiler records no Python stacks (torch 2.11's CUDA profiles on Python 3.12
carry none), the call is profiled again under a dispatch mode that wraps each operator in a
`record_function` named after the line that called it. Kernels no operator launched (Triton's, which
its launcher sends to the driver directly) go to the line that launches a kernel of that name,
`name[grid](...)`. Also the kernels (or, on the CPU, operators) one call launches, with their times."""

from __future__ import annotations

import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from kernelwright.core.measure import KernelTime, LineCost

# Name prefix of the record_function ranges the line tagger opens around each operator.
LINE_TAG = "kernelwright.line:"

_FRAME = re.compile(r"^(?P<file>.+)\((?P<line>\d+)\): (?P<func>.*)$")


@dataclass(frozen=True)
class Profile:
    line_costs: tuple[LineCost, ...]
    kernels: tuple[KernelTime, ...]


def _same_file(shown: str, path: str) -> bool:
    # Text loaded from an unsaved buffer runs under `PATH (role hash)` (harness/source.code_filename).
    shown = re.sub(r" \([a-z_]+ [0-9a-f]{10}\)$", "", shown).replace("\\", "/")
    full = os.path.abspath(path).replace("\\", "/")
    return shown == full or full.endswith("/" + shown.lstrip("./"))


def _time_attr(evt: Any, *names: str) -> float:
    """The first of these attributes the event has as a number (torch renamed cuda_* to device_*)."""
    for name in names:
        value = getattr(evt, name, None)
        if isinstance(value, int | float):
            return float(value)
    return 0.0


def _device_time(evt: Any) -> float:
    return _time_attr(evt, "device_time_total", "cuda_time_total")


def _self_device_time(evt: Any) -> float:
    return _time_attr(evt, "self_device_time_total", "self_cuda_time_total")


def _is_python(evt: Any) -> bool:
    name = evt.name
    return bool(_FRAME.match(name)) or name.startswith(("<built-in", "nn.Module:", "torch/"))


def _frames(evt: Any) -> list[str]:
    """The Python frames an event records, innermost first: its Python-function parents (the CPU
    profile of recent torch) and its own recorded stack (`evt.stack`, which CUDA profiles carry)."""
    frames: list[str] = []
    parent = evt.cpu_parent
    while parent is not None:
        if _FRAME.match(parent.name):
            frames.append(parent.name)
        parent = parent.cpu_parent
    frames.extend(getattr(evt, "stack", None) or [])
    return frames


def _line_in_file(evt: Any, path: str) -> int | None:
    for frame in _frames(evt):
        m = _FRAME.match(frame)
        if m and _same_file(m.group("file"), path):
            return int(m.group("line")) - 1
    return None


def launch_lines(source: str) -> dict[str, int]:
    """0-based line of each `name[grid](...)` launch in the file (the first one per name): where a
    Triton kernel's device time belongs, since no torch operator launched it."""
    lines: dict[str, int] = {}
    for number, text in enumerate(source.splitlines()):
        for m in _LAUNCH.finditer(text):
            lines.setdefault(m.group(1), number)
    return lines


_LAUNCH = re.compile(r"\b([A-Za-z_]\w*)\s*\[[^\]]*\]\s*\(")


def _start(evt: Any) -> float:
    span = getattr(evt, "time_range", None)
    return float(getattr(span, "start", 0.0) or 0.0)


def _orphan_kernels(events: list[Any]) -> list[Any]:
    """Device kernels no torch operator claims (Triton's launcher calls the driver directly), in
    start order. A kernel is claimed when an operator lists a kernel of its name."""
    claimed: Counter[str] = Counter()
    for evt in events:
        if not _is_device(evt):
            claimed.update(k.name for k in getattr(evt, "kernels", []) or [])
    orphans: list[Any] = []
    for evt in sorted((e for e in events if _is_device(e)), key=_start):
        if claimed[evt.name] > 0:
            claimed[evt.name] -= 1
        else:
            orphans.append(evt)
    return orphans


def _is_device(evt: Any) -> bool:
    return getattr(evt.device_type, "name", "") == "CUDA"


def attribute(
    events: list[Any], path: str, source: str, on_cuda: bool, calls: int
) -> tuple[tuple[LineCost, ...], tuple[KernelTime, ...]]:
    """Line costs and kernel times from profiler events (torch's FunctionEvents, or look-alikes)."""
    per_line: dict[int, float] = defaultdict(float)
    per_line_kernels: dict[int, set[str]] = defaultdict(set)
    kernels: dict[str, list[float]] = defaultdict(list)
    total = 0.0
    # Events from a tagged profile: the line tags say where each operator's time belongs.
    tag_mode = any(evt.name.startswith(LINE_TAG) for evt in events)
    for evt in events:
        if _is_python(evt):
            continue
        if on_cuda and _is_device(evt):
            kernels[evt.name].append(_self_device_time(evt))
            continue
        line: int | None
        if evt.name.startswith(LINE_TAG):
            line, ops = int(evt.name[len(LINE_TAG) :]), _outermost_ops(evt)
        elif tag_mode or (evt.cpu_parent is not None and not _is_python(evt.cpu_parent)):
            # Tagged: this is the same call seen before the dispatch mode. Else: a nested operator, whose
            # time is inside its parent's.
            continue
        else:
            line, ops = _line_in_file(evt, path), [evt]
        spent = _device_time(evt) if on_cuda else float(evt.cpu_time_total)
        if spent <= 0:
            continue
        total += spent
        if not on_cuda:
            for op in ops:
                kernels[op.name].append(float(op.cpu_time_total))
        if line is not None:
            per_line[line] += spent
            per_line_kernels[line].update(_kernel_names(ops) if on_cuda else (op.name for op in ops))
    if on_cuda:
        launches = launch_lines(source)
        for kernel in _orphan_kernels(events):
            spent = _self_device_time(kernel)
            total += spent
            line = launches.get(kernel.name)
            if line is not None and spent > 0:
                per_line[line] += spent
                per_line_kernels[line].add(kernel.name)
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
    return line_costs, tuple(kernel_times[:20])


def _kernel_names(ops: list[Any]) -> set[str]:
    """The device kernels these operators launched, themselves or through the operators under them."""
    names: set[str] = set()
    stack = list(ops)
    while stack:
        op = stack.pop()
        names.update(k.name for k in getattr(op, "kernels", []) or [])
        stack.extend(getattr(op, "cpu_children", []) or [])
    return names


def _outermost_ops(evt: Any) -> list[Any]:
    """The operators directly under `evt`, looking through Python-function events between them."""
    out: list[Any] = []
    stack = list(getattr(evt, "cpu_children", []) or [])
    while stack:
        child = stack.pop()
        if _is_python(child):
            stack.extend(getattr(child, "cpu_children", []) or [])
        else:
            out.append(child)
    return out


def _line_tagger(path: str) -> Any:
    """A dispatch mode that runs each operator inside `record_function(LINE_TAG + line)`, the line being
    the innermost frame of the person's file on the Python stack when the operator was called."""
    from torch.utils._python_dispatch import TorchDispatchMode

    same: dict[str, bool] = {}

    def caller_line() -> int | None:
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            hit = same.get(name)
            if hit is None:
                hit = same[name] = _same_file(name, path)
            if hit:
                return frame.f_lineno - 1
            frame = frame.f_back  # type: ignore[assignment]
        return None

    class LineTagger(TorchDispatchMode):  # type: ignore[no-untyped-call]
        def __torch_dispatch__(  # type: ignore[no-untyped-def]
            self, func, types, args=(), kwargs=None
        ):
            line = caller_line()
            if line is None:
                return func(*args, **(kwargs or {}))
            with torch.profiler.record_function(f"{LINE_TAG}{line}"):
                return func(*args, **(kwargs or {}))

    return LineTagger()  # type: ignore[no-untyped-call]


def _profiled_events(fn: Callable[[], Any], on_cuda: bool, calls: int, tag_lines_of: str | None) -> list[Any]:
    from contextlib import nullcontext

    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_cuda else [])
    with profile(activities=activities, with_stack=True) as prof:
        with _line_tagger(tag_lines_of) if tag_lines_of is not None else nullcontext():
            for _ in range(calls):
                fn()
        if on_cuda:
            torch.cuda.synchronize()
    return list(prof.events())


def profile_call(
    fn: Callable[[], Any], path: str, on_cuda: bool, source: str = "", calls: int = 3
) -> Profile:
    with torch.inference_mode():
        fn()  # warm: first-call compilation and caching stay out of the profile
        if on_cuda:
            torch.cuda.synchronize()
        events = _profiled_events(fn, on_cuda, calls, None)
        line_costs, kernel_times = attribute(events, path, source, on_cuda, calls)
        if not line_costs:
            # No Python stacks in this profile: tag each operator with its line and profile again. The
            # tagger runs only here, since a dispatch mode changes what torch.compile'd code does.
            try:
                tagged = _profiled_events(fn, on_cuda, calls, path)
            except Exception:
                tagged = []
            if tagged:
                tagged_lines, _ = attribute(tagged, path, source, on_cuda, calls)
                line_costs = tagged_lines or line_costs
    return Profile(line_costs, kernel_times)
