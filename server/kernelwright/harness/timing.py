"""Honest timing (docs/PITFALLS.md 1-5, 17).

CUDA: per call, queue a spin kernel long enough to cover the host's time to enqueue the call (measured
during warm-up), then flush L2 (write a buffer twice its size; reset any persisting-L2 window), and
record events around the one call while the cover and the flush still occupy the GPU: the events then
see the call's device time, never the host's launch latency (triton's do_bench gets the same effect by
queueing calls back to back). Synchronise the whole device, and keep the host clock around the call,
less the flush and the cover, as a cross-check. A call the host finished enqueueing only after the GPU
had drained the cover and the flush is dropped (the GPU may have waited inside the events) and the cover
lengthened; `TimingStats.host_late` counts them. Before each call, 0-3 one-block launches in turn, so
that no run is timed in one launch state of the GPU only (a small call's launch gaps depend on it).
Calls are timed one by one and rotate through input sets made beforehand at distinct addresses, so a
replayed or batched result cannot flatter. CPU: perf_counter with the same structure, labelled as CPU.
Every clock, event and statistic comes from `clock`, captured before any candidate loaded.

Why one module: CUDA and CPU timing share the plan, the stopping rule and the summary, and the block
timer the judge uses (BlockTimer) reuses the same host cover and L2 flush.
"""

from __future__ import annotations

import ctypes
import gc
import math
import statistics
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from kernelwright.core.measure import JobPhase, TimingMethod, TimingStats
from kernelwright.harness import clock
from kernelwright.harness.device import Target
from kernelwright.harness.exchange import PendingChecksums

STABLE_WITHIN = 0.02  # the median of the last half within 2% of the whole run's median
MIN_SAMPLES = 10
# Host time per call far above device time: work escaped the events (side stream or thread).
SUSPICIOUS_RATIO = 4.0
SUSPICIOUS_GAP_US = 50.0


@dataclass(frozen=True)
class TimingPlan:
    warmup: int = 3
    repeats: int | None = None  # exact count, or None: until stable
    min_time_s: float = 0.2
    max_time_s: float = 5.0
    max_repeats: int = 2000


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    k = (len(sorted_values) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def summarize(
    samples_us: Sequence[float],
    method: TimingMethod,
    host_us: Sequence[float] = (),
    l2_flushed: bool = False,
    input_sets: int = 1,
    host_late: int = 0,
    l2_not_reset: str = "",
    l2_set_aside_removed: int = 0,
) -> TimingStats:
    ordered = sorted(samples_us)
    return TimingStats(
        median_us=float(clock.median(ordered)),
        p10_us=percentile(ordered, 0.1),
        p90_us=percentile(ordered, 0.9),
        mean_us=float(clock.fmean(ordered)),
        min_us=ordered[0],
        max_us=ordered[-1],
        repeats=len(ordered),
        method=method,
        host_median_us=float(clock.median(host_us)) if host_us else None,
        l2_flushed=l2_flushed,
        input_sets=input_sets,
        host_late=host_late,
        l2_not_reset=l2_not_reset,
        l2_set_aside_removed=l2_set_aside_removed,
    )


def _stable(samples: list[float]) -> bool:
    if len(samples) < MIN_SAMPLES:
        return False
    whole = clock.median(samples)
    recent = clock.median(samples[len(samples) // 2 :])
    return bool(abs(recent - whole) <= STABLE_WITHIN * whole)


def _done(samples: list[float], started: float, plan: TimingPlan) -> bool:
    if plan.repeats is not None:
        return len(samples) >= plan.repeats
    elapsed = clock.perf_counter() - started
    if elapsed >= plan.max_time_s or len(samples) >= plan.max_repeats:
        return True
    return elapsed >= plan.min_time_s and _stable(samples)


# The spin kernel covers this multiple of a typical (the median) warm-up enqueue, plus a floor, up to a
# ceiling. Not the slowest: the calls right after the first are still slow to enqueue (lazy set-up on the
# host), and a cover sized from them was 1.3 ms before a 0.18 ms kernel on an H200, spin time whose clock
# drift made most of a timing block's noise. A call the host is late for anyway grows the cover (bench)
# or is kept as the slower reading it is (timing blocks).
COVER_FACTOR = 3.0
COVER_FLOOR_US = 50.0
COVER_CEILING_US = 5000.0
# Before call i, (i mod this) one-block launches of the spin kernel, so the GPU's block scheduler meets
# each timed call in one of several states: on an H100 a 9 µs two-kernel call timed in one state per run
# read 8.7 or 9.6 µs depending on how many launches the process had made before the run
# (benchmarks/BENCHMARKS.md, Harness). 1 turns it off.
LAUNCH_ROTATION = 4


def _spin(cycles: int) -> None:
    """A kernel that spins for `cycles` GPU clock cycles on the current stream."""
    if clock.cuda_sleep is None:
        raise RuntimeError("this build of torch has no CUDA sleep kernel (torch._C._cuda_sleep)")
    clock.cuda_sleep(cycles)


class HostCover:
    """Keeps the GPU busy for a chosen time with `torch.cuda._sleep`, so the host can enqueue the start
    event and the timed call before the GPU reaches them. Cycles per microsecond are measured once."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.cycles_per_us = self._measure_rate()
        self.cover_us = COVER_FLOOR_US

    def _measure_rate(self) -> float:
        cycles = 200_000
        _spin(cycles)  # the first launch loads the kernel
        clock.cuda_synchronize(self.device)
        start, end = clock.CudaEvent(enable_timing=True), clock.CudaEvent(enable_timing=True)
        start.record()
        _spin(cycles)
        end.record()
        clock.cuda_synchronize(self.device)
        elapsed_us = float(start.elapsed_time(end)) * 1000.0
        return cycles / max(elapsed_us, 1e-3)

    def fit(self, enqueue_us: Sequence[float]) -> None:
        """Size the cover from host enqueue times seen in warm-up."""
        typical = statistics.median(enqueue_us) if enqueue_us else 0.0
        self.cover_us = min(COVER_CEILING_US, COVER_FLOOR_US + COVER_FACTOR * typical)

    def queue(self, extra_launches: int = 0) -> None:
        for _ in range(extra_launches):
            _spin(1)
        _spin(int(self.cover_us * self.cycles_per_us))

    def grow(self, enqueue_us: float) -> bool:
        """Lengthen the cover after the host was late (False once it is at its ceiling)."""
        wanted = min(COVER_CEILING_US, max(2 * self.cover_us, COVER_FLOOR_US + COVER_FACTOR * enqueue_us))
        grown = wanted > self.cover_us
        self.cover_us = wanted
        return grown


class L2Flusher:
    """Writes a buffer of twice the L2 size between calls, after releasing persisting L2 (docs/PITFALLS.md
    5): lines a persisting access-policy window pinned survive ordinary writes, and so, measured on an
    H100, do a share of them made normal while L2 stays set aside for persisting lines. `not_reset` says
    why the release could not be made ("" when it is made before every flush); `set_aside_removed` the
    most L2 the timed code had set aside (0 when it set none)."""

    def __init__(self, target: Target) -> None:
        l2 = target.info.l2_bytes or 64 * 2**20
        self.buffer = torch.empty(2 * l2, dtype=torch.uint8, device=target.device)
        driver = persisting_l2()
        self._persisting = None if isinstance(driver, str) else driver
        self.not_reset = driver if isinstance(driver, str) else ""
        self.set_aside_removed = 0

    def flush(self) -> None:
        if self._persisting is not None:
            rc, limit_rc, set_aside = self._persisting.release()
            self.set_aside_removed = max(self.set_aside_removed, set_aside)
            if rc != 0:
                self._persisting = None
                self.not_reset = f"the CUDA driver refused to reset persisting-L2 lines (CUresult {rc})"
            elif limit_rc != 0 and not self.not_reset:
                # The lines are still reset before every flush; only the set-aside share stays.
                self.not_reset = (
                    f"the CUDA driver refused to give back L2 set aside for persisting lines (CUresult "
                    f"{limit_rc}); persisting lines were still reset before each flush"
                )
        self.buffer.fill_(0x5A)


# The driver's library by platform: it is there wherever CUDA runs (torch itself loads it), so the release
# needs no package beyond torch.
_DRIVER_LIBRARIES = ("libcuda.so.1", "libcuda.so", "nvcuda.dll")
CU_LIMIT_PERSISTING_L2_CACHE_SIZE = 0x06


class PersistingL2:
    """The CUDA driver's persisting-L2 controls, for the calling thread's current context."""

    def __init__(self, driver: ctypes.CDLL) -> None:
        self._reset = driver.cuCtxResetPersistingL2Cache
        self._reset.restype, self._reset.argtypes = ctypes.c_int, []
        self._get_limit = driver.cuCtxGetLimit
        self._get_limit.restype = ctypes.c_int
        self._get_limit.argtypes = [ctypes.POINTER(ctypes.c_size_t), ctypes.c_int]
        self._set_limit = driver.cuCtxSetLimit
        self._set_limit.restype, self._set_limit.argtypes = ctypes.c_int, [ctypes.c_int, ctypes.c_size_t]

    def release(self) -> tuple[int, int, int]:
        """Makes every persisting line normal (cuCtxResetPersistingL2Cache), then gives back any L2 set aside
        for persisting lines (cuCtxSetLimit to 0, asked only where the limit is not 0 already), so that a
        flush can evict all of L2. Returns the reset's CUresult, the give-back's (0 where none was needed)
        and the bytes that were set aside."""
        rc = int(self._reset())
        if rc != 0:
            return rc, 0, 0
        size = ctypes.c_size_t(0)
        limit_rc = int(self._get_limit(ctypes.byref(size), CU_LIMIT_PERSISTING_L2_CACHE_SIZE))
        if limit_rc != 0 or size.value == 0:
            return 0, limit_rc, 0
        return 0, int(self._set_limit(CU_LIMIT_PERSISTING_L2_CACHE_SIZE, 0)), int(size.value)


def persisting_l2() -> PersistingL2 | str:
    """The driver's persisting-L2 controls, or why there are none."""
    errors: list[str] = []
    for name in _DRIVER_LIBRARIES:
        try:
            driver = ctypes.CDLL(name)
        except OSError as e:
            errors.append(str(e))
            continue
        try:
            return PersistingL2(driver)
        except AttributeError as e:
            return f"the CUDA driver ({name}) has no persisting-L2 controls (a driver before CUDA 11): {e}"
    return "the CUDA driver library could not be opened: " + "; ".join(errors)


def time_cuda(
    fn: Callable[[tuple[Any, ...]], Any],
    input_sets: Sequence[tuple[Any, ...]],
    target: Target,
    plan: TimingPlan,
) -> TimingStats:
    flusher = L2Flusher(target)
    sync = clock.cuda_synchronize
    device = target.device
    cover = HostCover(device)
    with torch.inference_mode():
        enqueue_us: list[float] = []
        for i in range(max(plan.warmup, 2)):
            sync(device)
            flusher.flush()  # a busy GPU, as in the timed loop, so the enqueue time is the host's alone
            t0 = clock.perf_counter()
            fn(input_sets[i % len(input_sets)])
            enqueue_us.append((clock.perf_counter() - t0) * 1e6)
        sync(device)
        # The first call may compile or autotune: size the cover from the later ones.
        cover.fit(enqueue_us[1:])
        samples: list[float] = []
        host: list[float] = []
        started = clock.perf_counter()
        i = late = 0
        while not _done(samples, started, plan):
            args = input_sets[i % len(input_sets)]
            before_flush = clock.CudaEvent(enable_timing=True)
            start, end = clock.CudaEvent(enable_timing=True), clock.CudaEvent(enable_timing=True)
            sync(device)
            h0 = clock.perf_counter()
            # The flush and the cover are queued right before the timed call and keep the GPU busy while
            # the host enqueues `start` and the call: the events then see the call's device time, not
            # the host's launch latency (an idle GPU would start the clock before the kernel arrives).
            # The cover comes first and the flush last, so the call always meets the L2 as the flush
            # left it (dirty lines of the flush buffer, as in do_bench) whatever the cover's length.
            before_flush.record()
            cover.queue(extra_launches=i % LAUNCH_ROTATION)
            flusher.flush()
            start.record()
            fn(args)
            enqueued_us = (clock.perf_counter() - h0) * 1e6
            end.record()
            sync(device)  # the whole device: work on any stream ends before the host clock stops
            h1 = clock.perf_counter()
            i += 1
            # The GPU's time from `before_flush` (recorded on an idle GPU, so no earlier than the host's
            # h0) to `start`: the cover and the flush. If the host took longer to enqueue everything up
            # to the call's last launch, the GPU may have waited inside the events for a launch: the
            # sample holds host time. Drop it and lengthen the cover (kept at the ceiling).
            flush_us = float(before_flush.elapsed_time(start)) * 1000.0
            if enqueued_us > flush_us and cover.grow(enqueued_us):
                late += 1
                continue
            samples.append(float(start.elapsed_time(end)) * 1000.0)
            # Host cross-check, less the flush's and the cover's own device time.
            host.append(max(0.0, (h1 - h0) * 1e6 - flush_us))
    return summarize(
        samples,
        TimingMethod.CUDA_EVENTS,
        host,
        l2_flushed=True,
        input_sets=len(input_sets),
        host_late=late,
        l2_not_reset=flusher.not_reset,
        l2_set_aside_removed=flusher.set_aside_removed,
    )


def time_cpu(
    fn: Callable[[tuple[Any, ...]], Any], input_sets: Sequence[tuple[Any, ...]], plan: TimingPlan
) -> TimingStats:
    with torch.inference_mode():
        for i in range(plan.warmup):
            fn(input_sets[i % len(input_sets)])
        samples: list[float] = []
        started = clock.perf_counter()
        i = 0
        while not _done(samples, started, plan):
            args = input_sets[i % len(input_sets)]
            t0 = clock.perf_counter()
            fn(args)
            t1 = clock.perf_counter()
            samples.append((t1 - t0) * 1e6)
            i += 1
    return summarize(samples, TimingMethod.CPU_PERF_COUNTER, input_sets=len(input_sets))


def time_calls(
    fn: Callable[[tuple[Any, ...]], Any],
    input_sets: Sequence[tuple[Any, ...]],
    target: Target,
    plan: TimingPlan,
) -> TimingStats:
    if target.is_cuda:
        return time_cuda(fn, input_sets, target, plan)
    return time_cpu(fn, input_sets, plan)


def suspicious(stats: TimingStats) -> str | None:
    """Why the host clock disagrees with the device events, or None when they agree."""
    if stats.method is not TimingMethod.CUDA_EVENTS or stats.host_median_us is None:
        return None
    host, dev = stats.host_median_us, stats.median_us
    if host > SUSPICIOUS_RATIO * dev and host - dev > SUSPICIOUS_GAP_US:
        return (
            f"suspicious timing: device events say {dev:.1f} µs per call but the host clock around a full "
            f"synchronise says {host:.1f} µs: work runs outside the timed stream (a side stream or thread)"
        )
    return None


def l2_note(stats: TimingStats) -> str | None:
    """A note when persisting L2 could not be released before each flush, or when the timed code had set
    L2 aside for persisting lines (which the flush takes back: what such lines would save across calls
    is not in the time)."""
    if not stats.l2_flushed:
        return None
    if stats.l2_not_reset:
        return (
            f"persisting L2 was not released before each L2 flush ({stats.l2_not_reset}): data that a "
            "persisting access-policy window pins stays cached between calls, and such code reads faster "
            "than it would in use"
        )
    if stats.l2_set_aside_removed:
        return (
            f"the timed code set aside {stats.l2_set_aside_removed / 2**20:.1f} MiB of L2 for persisting "
            "lines; every L2 flush between calls gives it back, so lines it pins do not outlive a call "
            "(the time has no help from data kept in L2 from one call to the next)"
        )
    return None


# A median of fewer calls than this is a sample, not a distribution: the measurement says so.
FEW_CALLS = 5


def few_calls(stats: TimingStats) -> str | None:
    """A note when the median rests on fewer than FEW_CALLS timed calls, with why and what gives more."""
    if stats.method is TimingMethod.NOT_TIMED or stats.repeats >= FEW_CALLS:
        return None
    calls = "1 timed call" if stats.repeats == 1 else f"{stats.repeats} timed calls"
    each = f"{stats.median_us / 1e6:.3g} s" if stats.median_us >= 1e5 else f"{stats.median_us / 1e3:.3g} ms"
    return (
        f"the median rests on {calls} (about {each} each): read it as one sample, not a distribution; "
        "more repeats, more time for timing or a smaller problem give a spread"
    )


def not_timed() -> TimingStats:
    return TimingStats(
        median_us=0.0,
        p10_us=0.0,
        p90_us=0.0,
        mean_us=0.0,
        min_us=0.0,
        max_us=0.0,
        repeats=0,
        method=TimingMethod.NOT_TIMED,
    )


class PhaseClock:
    """Wall seconds per job phase, exclusive: entering a nested phase pauses the enclosing one, so the
    phases sum to the time the job spent inside any of them. Uses the clock captured before any
    candidate loaded, so a candidate cannot hide where its time went."""

    def __init__(self, seconds: dict[str, float] | None = None) -> None:
        self.seconds: dict[str, float] = dict(seconds or {})
        self._open: list[tuple[JobPhase, float]] = []  # (phase, when it last resumed)

    @contextmanager
    def __call__(self, phase: JobPhase) -> Iterator[None]:
        now = clock.perf_counter()
        if self._open:
            outer, since = self._open[-1]
            self._add(outer, now - since)
        self._open.append((phase, now))
        try:
            yield
        finally:
            now = clock.perf_counter()
            inner, since = self._open.pop()
            self._add(inner, now - since)
            if self._open:
                self._open[-1] = (self._open[-1][0], now)

    def _add(self, phase: JobPhase, seconds: float) -> None:
        self.seconds[phase.value] = self.seconds.get(phase.value, 0.0) + seconds

    def merged(self, other: dict[str, float]) -> dict[str, float]:
        """These seconds plus another job part's (e.g. a measurement's), rounded to microseconds."""
        out = dict(self.seconds)
        for key, value in other.items():
            out[key] = out.get(key, 0.0) + value
        return {k: round(v, 6) for k, v in out.items()}


# ---- timing blocks: the unit of an interleaved run (harness.interleave) ---------------------------------


@dataclass
class BlockResult:
    """One side's timing block: a call per seed, each on inputs freshly drawn from it."""

    samples_us: list[float]  # one per call
    dropped: int  # CUDA calls the host was still enqueueing when the GPU reached them (kept)
    checksums: list[tuple[str, ...]]  # per call (dropped ones included), per output leaf
    outputs: list[Any]  # every call's output (the timer keeps them until its next block starts)
    wall_s: float  # the block's wall time on this process's clock


class BlockTimer:
    """Times blocks of calls the same way in the judge (the reference) and in a candidate worker (the
    candidate), so that what a block costs beyond its timed calls is the same on both sides: draw the
    inputs, call once under the events (CUDA: cover, flush, events, full synchronise, as `time_cuda`),
    checksum the output and keep it. Both sides free a block's outputs at the start of their next block,
    so the allocator meets each timed call in the same state on both."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._flusher: L2Flusher | None = None
        self._cover: HostCover | None = None
        self._calls = 0
        self.kept: list[Any] = []  # the last block's outputs
        self._enqueue_us: list[float] = []  # warm-up calls' host enqueue times
        self._warmed = False
        if target.is_cuda:
            self._flusher = L2Flusher(target)
            self._cover = HostCover(target.device)

    def warm(
        self,
        fn: Callable[[tuple[Any, ...]], Any],
        draw: Callable[[int], tuple[Any, ...]],
        seeds: Sequence[int],
    ) -> None:
        """Untimed calls (compiles, autotuning); on a GPU they size the host cover."""
        enqueue_us: list[float] = []
        with torch.inference_mode():
            for seed in seeds:
                args = draw(seed)
                if self._flusher is not None:
                    clock.cuda_synchronize(self.target.device)
                    self._flusher.flush()
                t0 = clock.perf_counter()
                fn(args)
                enqueue_us.append((clock.perf_counter() - t0) * 1e6)
                if self.target.is_cuda:
                    clock.cuda_synchronize(self.target.device)
        # Every warm-up call but the timer's first (which loads kernels and compiles) sizes the cover.
        if not enqueue_us:
            return
        self._enqueue_us += enqueue_us if self._warmed else enqueue_us[1:]
        self._warmed = True
        if self._cover is not None and self._enqueue_us:
            self._cover.fit(self._enqueue_us)

    @property
    def l2_not_reset(self) -> str:
        """Why this timer's flushes are not preceded by a persisting-L2 reset ("" when they are)."""
        return "" if self._flusher is None else self._flusher.not_reset

    @property
    def cover_us(self) -> float:
        """The host cover each timed call gets (0 on the CPU, which has none)."""
        return 0.0 if self._cover is None else self._cover.cover_us

    def use_cover(self, cover_us: float) -> None:
        """Use the given cover (clamped to the cover's range) for every timed call from now on: the judge
        gives both sides the same one, so neither pays more GPU spin per call than the other."""
        if self._cover is not None and math.isfinite(cover_us):
            self._cover.cover_us = min(COVER_CEILING_US, max(COVER_FLOOR_US, cover_us))

    def block(
        self,
        fn: Callable[[tuple[Any, ...]], Any],
        draw: Callable[[int], tuple[Any, ...]],
        seeds: Sequence[int],
    ) -> BlockResult:
        # No cyclic garbage collection inside a block: its pauses grow with the heap, and a process that
        # has run torch.compile holds a far larger heap than one that has not, so they would land on one
        # side only.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._block(fn, draw, seeds)
        finally:
            if collecting:
                gc.enable()

    def _block(
        self,
        fn: Callable[[tuple[Any, ...]], Any],
        draw: Callable[[int], tuple[Any, ...]],
        seeds: Sequence[int],
    ) -> BlockResult:
        samples: list[float] = []
        sums: list[PendingChecksums] = []
        outputs: list[Any] = []
        dropped = 0
        started = clock.perf_counter()
        self.kept = []
        with torch.inference_mode():
            for seed in seeds:
                args = draw(seed)
                if self._cover is not None and self._flusher is not None:
                    # The cover keeps the length warm-up gave it: a cover that grew in one process and
                    # not in the other would cost one side more per call than the other. A call the
                    # host was late for is kept (it holds some host time: it can only read slower).
                    sample, late, out = self._cuda_call(fn, args)
                    dropped += late
                    samples.append(sample)
                else:
                    t0 = clock.perf_counter()
                    out = fn(args)
                    samples.append((clock.perf_counter() - t0) * 1e6)
                sums.append(PendingChecksums(out))
                outputs.append(out)
                del args
            read = [p.read() for p in sums]  # the block's one synchronise for its checksums
        self.kept = outputs
        return BlockResult(samples, dropped, read, outputs, clock.perf_counter() - started)

    def _cuda_call(
        self, fn: Callable[[tuple[Any, ...]], Any], args: tuple[Any, ...]
    ) -> tuple[float, int, Any]:
        assert self._cover is not None and self._flusher is not None
        device = self.target.device
        before_flush = clock.CudaEvent(enable_timing=True)
        start, end = clock.CudaEvent(enable_timing=True), clock.CudaEvent(enable_timing=True)
        clock.cuda_synchronize(device)
        h0 = clock.perf_counter()
        before_flush.record()
        self._cover.queue(extra_launches=self._calls % LAUNCH_ROTATION)
        self._calls += 1
        self._flusher.flush()
        start.record()
        out = fn(args)
        enqueued_us = (clock.perf_counter() - h0) * 1e6
        end.record()
        clock.cuda_synchronize(device)
        flush_us = float(before_flush.elapsed_time(start)) * 1000.0
        return float(start.elapsed_time(end)) * 1000.0, enqueued_us > flush_us, out
