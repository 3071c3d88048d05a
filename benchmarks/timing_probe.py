"""Timing probe: one sample's callable timed several ways in one process, to explain a disagreement
between the harness's median and triton.testing.do_bench (issue 3's 5% target).

    python benchmarks/timing_probe.py --samples 'adversarial/gelu*' [--repeats 3] [--json probe.json]
    python benchmarks/timing_probe.py --samples 'adversarial/gelu*' --launches   # or --placement,
        --allocator, --period, --events: one experiment on what sets a run's median (see each function)

Methods (each repeated --repeats times; the table shows the median of each repeat's median, in µs):
  harness-Nsets  harness.timing.time_cuda as bench runs it, on bench's own N input sets in turn: sync, spin
                 cover, L2 flush (fill of 2 x L2), start event, call, end event, sync
  harness-1set   the same on the first input set only
  do_bench-1set  triton.testing.do_bench on the first set: zero_ of a 256 MB buffer, start, call, end;
                 back to back, one sync at the end
  do_bench-Nsets the same, the N sets in turn
  sync-zero256   synchronised calls with do_bench's flush and no cover
  b2b-fill       do_bench's back-to-back loop with the harness's (shorter) flush: host-bound if the flush
                 is shorter than the host's enqueue of the call
  kernels        the call's kernels' summed device durations from torch.profiler (no gaps between them)
  kernels+gaps   first kernel start to last kernel end, from the same profile
  harness-setK / do_bench-setK   each input set alone, once
GPU only. Numbers are for diagnosis; the published ones come from benchmarks/harness.py.
"""

from __future__ import annotations

import argparse
import fnmatch
import itertools
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import torch  # noqa: E402
from harness import _under_samples, problems  # noqa: E402
from kernelwright.core.jobs import BenchJob  # noqa: E402
from kernelwright.harness import timing  # noqa: E402
from kernelwright.harness.bench import TIMING_SEED, load_problem, timing_input_sets  # noqa: E402
from kernelwright.harness.device import resolve  # noqa: E402
from kernelwright.harness.timing import L2Flusher, TimingPlan, time_cuda  # noqa: E402

Call = Callable[[], Any]
N = 200


def _events() -> tuple[Any, Any]:
    return torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)


def back_to_back(call: Call, flush: Call) -> float:
    pairs = [_events() for _ in range(N)]
    for _ in range(10):
        flush()
        call()
    torch.cuda.synchronize()
    for start, end in pairs:
        flush()
        start.record()
        call()
        end.record()
    torch.cuda.synchronize()
    return statistics.median(s.elapsed_time(e) * 1000.0 for s, e in pairs)


def synchronised(call: Call, flush: Call) -> float:
    out = []
    for i in range(N + 10):
        start, end = _events()
        torch.cuda.synchronize()
        flush()
        start.record()
        call()
        end.record()
        torch.cuda.synchronize()
        if i >= 10:
            out.append(start.elapsed_time(end) * 1000.0)
    return statistics.median(out)


def profiled(call: Call, flush: Call) -> tuple[float, float]:
    from torch.profiler import ProfilerActivity, profile

    for _ in range(5):
        flush()
        call()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(50):
            torch.cuda.synchronize()
            flush()
            with torch.profiler.record_function("probe.call"):
                call()
            torch.cuda.synchronize()
    kernels = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    # Group kernels by the call they belong to: the flush kernel is the one that writes the big buffer.
    per_call: list[list[Any]] = []
    for evt in sorted(kernels, key=lambda e: e.time_range.start):
        if "fill" in evt.name.lower() and evt.device_time > 20:
            per_call.append([])
        elif per_call:
            per_call[-1].append(evt)
    sums = [sum(e.device_time for e in ks) for ks in per_call if ks]
    spans = [ks[-1].time_range.end - ks[0].time_range.start for ks in per_call if ks]
    return statistics.median(sums), statistics.median(spans)


def loaded(ref: Any, device: str) -> tuple[Any, Any, list[tuple[Any, ...]]]:
    """The device, the problem as bench loads it, and bench's own input sets (same seeds, same count)."""
    target = resolve(device)
    problem = load_problem(BenchJob(ref, device=device), target)
    return target, problem, timing_input_sets(problem, target, problem.draw(TIMING_SEED))


def probe(ref: Any, device: str, repeats: int) -> dict[str, Any]:
    target, problem, input_sets = loaded(ref, device)
    one = input_sets[0]
    fill = L2Flusher(target).flush
    cache = torch.empty(int(256e6 // 4), dtype=torch.int, device="cuda")
    zero256: Call = cache.zero_
    plan = TimingPlan()
    rows: dict[str, list[float]] = {}
    import triton.testing

    def add(name: str, value: float) -> None:
        rows.setdefault(name, []).append(value)

    def call() -> Any:
        return problem(one)

    turn = itertools.cycle(input_sets)
    with torch.inference_mode():
        for _ in range(repeats):
            stats = time_cuda(problem, input_sets, target, plan)
            add(f"harness-{len(input_sets)}sets", stats.median_us)
            add("  calls dropped", stats.host_late)
            stats = time_cuda(problem, [one], target, plan)
            add("harness-1set", stats.median_us)
            add("  calls dropped", stats.host_late)
            add("do_bench-1set", float(triton.testing.do_bench(call, return_mode="median")) * 1000.0)
            add(
                f"do_bench-{len(input_sets)}sets",
                float(triton.testing.do_bench(lambda: problem(next(turn)), return_mode="median")) * 1000.0,
            )
            add("sync-zero256", synchronised(call, zero256))
            add("b2b-fill", back_to_back(call, fill))
            k, span = profiled(call, fill)
            add("kernels", k)
            add("kernels+gaps", span)
        for n, args in enumerate(input_sets):  # one repeat per set: which sets are slow?
            add(f"harness-set{n}", time_cuda(problem, [args], target, plan).median_us)
            add(
                f"do_bench-set{n}",
                float(triton.testing.do_bench(lambda a=args: problem(a), return_mode="median")) * 1000.0,
            )
    return {"sample": f"{Path(ref.path).name}:{ref.symbol}", "device": target.info.name, "methods": rows}


def placement(ref: Any, device: str, runs: int = 8) -> dict[str, list[float]]:
    """Does a time_cuda call's median depend on where its flush buffer lands? Each variant runs `runs`
    time_cuda calls on bench's input sets: a fresh flush buffer per call (as bench does), one buffer
    for all calls, and a flush that reads the buffer instead of writing it (no dirty lines left)."""
    target, problem, input_sets = loaded(ref, device)
    plan = TimingPlan()
    fresh = timing.L2Flusher
    shared = fresh(target)

    class ReadFlusher(fresh):  # type: ignore[misc, valid-type]
        def flush(self) -> None:
            self.buffer.view(torch.float32).sum()

    variants: dict[str, Callable[[Any], Any]] = {
        "fresh buffer (bench)": fresh,
        "one shared buffer": lambda t: shared,
        "read-only flush": ReadFlusher,
    }
    out: dict[str, list[float]] = {}
    with torch.inference_mode():
        for _ in range(2):
            for name, make in variants.items():
                timing.L2Flusher = make  # type: ignore[misc, assignment]
                try:
                    for _ in range(runs // 2):
                        out.setdefault(name, []).append(
                            time_cuda(problem, input_sets, target, plan).median_us
                        )
                finally:
                    timing.L2Flusher = fresh  # type: ignore[misc]
    return out


def allocator(ref: Any, device: str, runs: int = 8) -> dict[str, list[float]]:
    """Does a time_cuda run's median depend on where the caching allocator puts the call's outputs and
    intermediates? `runs` time_cuda runs each: as bench runs them; with a pad of a different size held
    through each run (placement changes per run); with the pad's size changed before every call
    (placement changes per call, so one run sees them all)."""
    target, problem, input_sets = loaded(ref, device)
    plan = TimingPlan()
    sizes = [n * 256 * 1024 + 512 for n in range(4)]
    out: dict[str, list[float]] = {}
    held: list[torch.Tensor] = []

    def padded(args: Any) -> Any:
        held[:] = [
            torch.empty(sizes[len(out.get("_calls", [])) % len(sizes)], dtype=torch.uint8, device=device)
        ]
        out.setdefault("_calls", []).append(0.0)
        return problem(args)

    with torch.inference_mode():
        for k in range(runs):
            out.setdefault("as bench", []).append(time_cuda(problem, input_sets, target, plan).median_us)
            pad = torch.empty(sizes[k % len(sizes)], dtype=torch.uint8, device=device)
            out.setdefault("pad per run", []).append(time_cuda(problem, input_sets, target, plan).median_us)
            del pad
            out.setdefault("pad per call", []).append(time_cuda(padded, input_sets, target, plan).median_us)
    out.pop("_calls", None)
    return out


def period(ref: Any, device: str, runs: int = 12) -> dict[str, list[float]]:
    """Is the slow mode tied to the count of timing runs or to the clock? `runs` short runs (60 calls)
    then `runs` long ones (600 calls): per run its start (s since the first), its median, and the
    medians of its first and second halves."""
    target, problem, input_sets = loaded(ref, device)
    kept: list[list[float]] = []
    summarize = timing.summarize

    def keeping(samples_us: Any, *a: Any, **k: Any) -> Any:
        kept.append(list(samples_us))
        return summarize(samples_us, *a, **k)

    out: dict[str, list[float]] = {}
    timing.summarize = keeping  # type: ignore[assignment]
    origin = time.perf_counter()
    try:
        with torch.inference_mode():
            for calls in (60, 600):
                for _ in range(runs):
                    started = time.perf_counter() - origin
                    time_cuda(problem, input_sets, target, TimingPlan(repeats=calls))
                    samples = kept[-1]
                    half = len(samples) // 2
                    out.setdefault(f"{calls} calls: start s", []).append(round(started, 2))
                    out.setdefault(f"{calls} calls: median", []).append(statistics.median(samples))
                    out.setdefault(f"{calls} calls: 1st half", []).append(statistics.median(samples[:half]))
                    out.setdefault(f"{calls} calls: 2nd half", []).append(statistics.median(samples[half:]))
    finally:
        timing.summarize = summarize  # type: ignore[assignment]
    return out


def events(ref: Any, device: str, runs: int = 12) -> dict[str, list[float]]:
    """Is the slow mode tied to the CUDA events a run creates? `runs` timing runs as bench runs them,
    then with one extra event created and recorded before each run (dropped at once), then with one
    extra event kept alive through each run. If the slow runs move with the extra events, the event
    slots the driver hands out are implicated."""
    target, problem, input_sets = loaded(ref, device)
    plan = TimingPlan(repeats=100)
    out: dict[str, list[float]] = {}
    with torch.inference_mode():
        for variant in ("as bench", "+1 event dropped", "+1 event kept", "as bench again"):
            kept = []
            for _ in range(runs):
                if variant != "as bench" and variant != "as bench again":
                    extra = torch.cuda.Event(enable_timing=True)
                    extra.record()
                    if variant == "+1 event kept":
                        kept.append(extra)
                    del extra
                out.setdefault(variant, []).append(time_cuda(problem, input_sets, target, plan).median_us)
    return out


def launches(ref: Any, device: str, runs: int = 12) -> dict[str, list[float]]:
    """Is the slow mode set by how many kernels the process launched before a run? With the harness's
    launch rotation off: `runs` timing runs as they come, then with one and two extra one-block launches
    before each run; then with the rotation on (as bench runs). If the slow runs move with the extra
    launches, the GPU's block-scheduling state is implicated, and the rotation should mix the states
    within every run."""
    target, problem, input_sets = loaded(ref, device)
    plan = TimingPlan(repeats=100)
    rotation = timing.LAUNCH_ROTATION
    out: dict[str, list[float]] = {}
    with torch.inference_mode():
        for variant, extra, rotate in (
            ("rotation off", 0, 1),
            ("off, +1 launch per run", 1, 1),
            ("off, +2 launches per run", 2, 1),
            ("rotation on (bench)", 0, rotation),
        ):
            timing.LAUNCH_ROTATION = rotate
            try:
                for _ in range(runs):
                    for _ in range(extra):
                        torch.cuda._sleep(1)
                    stats = time_cuda(problem, input_sets, target, plan)
                    out.setdefault(variant, []).append(stats.median_us)
            finally:
                timing.LAUNCH_ROTATION = rotation
    return out


EXPERIMENTS: dict[str, Callable[[Any, str], dict[str, list[float]]]] = {
    "placement": placement,
    "allocator": allocator,
    "period": period,
    "events": events,
    "launches": launches,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", default="adversarial/gelu*")
    ap.add_argument("--specs", default=None, help="`kernelwright scan --json samples` output, for samples")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=None)
    for name, experiment in EXPERIMENTS.items():
        ap.add_argument(f"--{name}", action="store_true", help=(experiment.__doc__ or "").split("?")[0] + "?")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("timing_probe: needs a CUDA GPU", file=sys.stderr)
        return 2
    results = []
    for ref, _ in problems(args.specs):
        if not fnmatch.fnmatch(_under_samples(ref.path), args.samples):
            continue
        chosen = [name for name in EXPERIMENTS if getattr(args, name)]
        if chosen:
            experiment = EXPERIMENTS[chosen[0]]
            medians = experiment(ref, args.device)
            print(f"\n{Path(ref.path).name}:{ref.symbol}: time_cuda medians (µs) by variant")
            for name, values in medians.items():
                spread = (max(values) - min(values)) / statistics.median(values)
                print(f"  {name:22} spread {100 * spread:5.1f}%  " + " ".join(f"{v:6.2f}" for v in values))
            results.append({"sample": f"{Path(ref.path).name}:{ref.symbol}", "placement": medians})
            continue
        r = probe(ref, args.device, args.repeats)
        results.append(r)
        print(f"\n{r['sample']} on {r['device']} (µs; each repeat's median)")
        for name, values in r["methods"].items():
            print(f"  {name:14} {statistics.median(values):8.2f}   " + " ".join(f"{v:7.2f}" for v in values))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
