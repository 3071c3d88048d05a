"""How results read in the editor: lens titles, hover tables, inlay labels. Plain text, no protocol types.

Kept apart from the handlers so the wording is tested on values alone. Every figure names the device that
produced it, and a CPU figure never reads like a GPU one.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from kernelwright.core.measure import (
    BaselineKind,
    DeviceInfo,
    DeviceKind,
    LineCost,
    Measurement,
    TimingMethod,
)
from kernelwright.core.site import Convention, FunctionSpec, Site, SiteKind
from kernelwright.core.text import format_us
from kernelwright.lsp.command_ids import CommandId, SiteRef
from kernelwright.lsp.spec_hint import cuda_directive, function_directive


@dataclass(frozen=True)
class LensText:
    title: str
    command: CommandId | None = None
    arguments: tuple[object, ...] = ()


_GPU_NAME = re.compile(r"\b([A-Z]{1,3}\d{2,4}[A-Za-z]?|RTX \d{4}(?: Ti)?)\b")


def short_device(device: DeviceInfo) -> str:
    """`NVIDIA H100 80GB HBM3` -> `H100`; a CPU is always labelled as one."""
    if device.kind is DeviceKind.CPU:
        return "CPU"
    found = _GPU_NAME.search(device.name)
    return found.group(1) if found else device.name.removeprefix("NVIDIA ").strip()


def format_age(seconds: float) -> str:
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def measurement_title(m: Measurement, stale: bool = False) -> str:
    """`183 µs · 97% of memory roofline · H100` (the lens that shows the result itself)."""
    device = short_device(m.device)
    if m.timing.method is TimingMethod.NOT_TIMED:
        parts = ["runs (not timed: Triton interpreter)", device]
    else:
        parts = [format_us(m.timing.median_us)]
        if m.roofline is not None:
            parts.append(f"{m.roofline.fraction:.0%} of {m.roofline.bound.value} roofline")
        parts.append(device)
    title = " · ".join(parts)
    return f"{title} (stale)" if stale else title


def site_lenses(
    site: Site, uri: str, measurement: Measurement | None, stale: bool, busy: str | None
) -> list[LensText]:
    """The lenses above one site: Profile, Optimize (or what is running, with Cancel), then the result."""
    ref = SiteRef(uri, site.name).as_argument()
    if site.kind is SiteKind.TRITON_KERNEL and site.spec is None and site.links:
        # A bare @triton.jit kernel is run through its launcher: point there instead of offering nothing.
        return [LensText(f"profiled through {', '.join(site.links)}")]
    lenses: list[LensText] = []
    if busy is not None:
        lenses.append(LensText(f"{busy}… (cancel)", CommandId.CANCEL, (ref,)))
    else:
        lenses.append(LensText("Profile", CommandId.PROFILE, (ref,)))
        lenses.append(LensText("Optimize", CommandId.OPTIMIZE, (ref,)))
    if measurement is not None:
        lenses.append(LensText(measurement_title(measurement, stale), CommandId.SHOW_HISTORY, (ref,)))
    return lenses


def measurement_table(m: Measurement, stale: bool, now: float | None = None) -> str:
    """The hover: a compact markdown table of the last measurement."""
    t = m.timing
    rows: list[tuple[str, str]] = []
    device = f"{m.device.label}"
    if t.method is TimingMethod.NOT_TIMED:
        rows.append(("median", "not timed (ran for correctness under the Triton interpreter)"))
    else:
        spread = f"p10 {format_us(t.p10_us)}, p90 {format_us(t.p90_us)}, n={t.repeats}"
        rows.append(("median", f"{format_us(t.median_us)} ({spread})"))
    for baseline in m.baselines:
        label = "eager" if baseline.kind is BaselineKind.EAGER else "torch.compile"
        if baseline.ratio is not None:
            rows.append((label, f"{baseline.ratio:.2f}× (>1: this code is faster)"))
        elif baseline.error:
            rows.append((label, f"not timed: {baseline.error}"))
    if m.roofline is not None:
        r = m.roofline
        floor = f"{format_us(r.floor_us)}, {r.source.value} peaks"
        rows.append(("roofline", f"{r.fraction:.0%} of {r.bound.value} floor ({floor})"))
    rows.append(("device", f"{device} · {t.method.value}"))
    if m.problem_size:
        rows.append(("inputs", f"`{m.problem_size}`"))
    age = (now if now is not None else time.time()) - m.created_at
    rows.append(("measured", format_age(max(age, 0.0))))
    lines = [f"**{m.symbol}**", ""]
    if stale:
        lines += ["⚠ **stale**: the code changed since this measurement; profile again.", ""]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    for note in m.notes:
        lines.append(f"\n_{note}_")
    return "\n".join(lines)


def line_cost_label(cost: LineCost) -> str:
    return f"{cost.share:.0%} · {format_us(cost.time_us)}"


def line_cost_hover(cost: LineCost, m: Measurement) -> str:
    kernels = ", ".join(f"`{k}`" for k in cost.kernels) or "none recorded"
    return (
        f"**{cost.share:.0%}** of `{m.symbol}`'s time on {m.device.label} "
        f"({format_us(cost.time_us)} per call). Kernels: {kernels}"
    )


def how_to_add_spec(site: Site, site_text: str = "") -> str:
    """The hover of a site with no spec: the exact directive its convention wants, ready to paste.

    `site_text` (the site's source) lets the directive name the site's own parameters.
    """
    name = site.name
    stem = name.lower()
    if site.kind is SiteKind.TORCH_MODULE:
        return (
            f"**{name}** has no bench spec. Use KernelBench's module convention: define `get_inputs()` "
            "(and `get_init_inputs()` for constructor arguments) at module level, or put a directive on "
            "the line above the class:\n\n"
            f"```python\n# kernelwright: bench init=make_{stem}_init inputs=make_{stem}_inputs\n```"
        )
    if site.kind in (SiteKind.CUDA_KERNEL, SiteKind.INLINE_CUDA_KERNEL):
        directive = cuda_directive(site_text) or (
            "// kernelwright: bench n=1<<20 x=randn(n) out=empty(n) grid=(n+255)/256 block=256"
        )
        return (
            f"**{name}** has no bench spec. Put this directive on the line above the kernel: each key is "
            "one of its parameters (const pointers are inputs, the others outputs that verification "
            "compares; integers take expressions), then the launch shape. Adjust the sizes:\n\n"
            f"```cuda\n{directive}\n```"
        )
    if site.kind is SiteKind.TRITON_KERNEL:
        launchers = ", ".join(f"`{x}`" for x in site.links) or "a Python launcher"
        return (
            f"**{name}** is a Triton kernel: it is benchmarked through {launchers}. Put the directive above "
            "the launcher, with `cpu_inputs=` for small inputs the Triton interpreter can run:\n\n"
            "```python\n# kernelwright: bench inputs=make_inputs cpu_inputs=make_small_inputs\n```"
        )
    return (
        f"**{name}** has no bench spec. Add an input factory and put the directive on the line above "
        f"`{name}`:\n\n```python\n{function_directive(name, site_text)}\n```"
    )


def spec_summary(site: Site) -> str | None:
    spec = site.spec
    if spec is None:
        return None
    if spec.convention is Convention.MODULE:
        return "module convention (`Model` + `get_inputs`)"
    if isinstance(spec, FunctionSpec):
        return f"bench directive, inputs from `{spec.inputs}`"
    return "CUDA directive"
