"""Timing a verified candidate against its reference, interleaved, in a way the candidate cannot fake
(docs/PITFALLS.md 1-4, 23, 24, 26).

The judge times the reference in its own process and asks the candidate's worker for blocks of timed
calls, alternating (reference first in even blocks, candidate first in odd ones), so drift and other
tenants of the machine hit both. Every call, on either side, gets inputs freshly drawn from a seed the
judge picks when it asks, so no cache of earlier answers can serve it.

The outputs of timed calls are checked: each candidate block commits to exact checksums of all its
outputs, then the judge picks a few calls at random and has the candidate send their outputs, which must
match the commitment and the reference's output for the same seed (a candidate that does less work while
timed, or defers it past the block, is rejected). The times the candidate's process reports are
cross-checked by the judge's clock around each of its blocks: what a block costs beyond its reported
call times must match what the reference's blocks cost beyond theirs (the same drawing, timing and
checksum code runs on both sides); work hidden from the reported times (a patched clock, a side stream,
deferred work) shows there. The speedup is the geometric mean of the per-block ratios of medians, with a
95% interval; the optimize loop claims a speedup only when the interval clears its threshold.

Why one module: timed_verdict is one procedure (warm-up, a settling block, timed blocks, confirmation,
the clock cross-check, the measurements) over one run's state; its statistics are
harness/interleave_stats.py.
"""

from __future__ import annotations

import math
import secrets
import statistics
import time
from dataclasses import dataclass, replace
from typing import Any

import torch

from kernelwright.core.jobs import VerifyJob
from kernelwright.core.judging import TimingReply
from kernelwright.core.measure import (
    CheckName,
    DeviceKind,
    Flag,
    JobPhase,
    Measurement,
    SpeedupEstimate,
    TimingMethod,
    TimingStats,
    Verdict,
    content_key,
)
from kernelwright.harness import clock
from kernelwright.harness.candidate_line import CandidateLine
from kernelwright.harness.compare import problem_size, tolerances
from kernelwright.harness.device import versions
from kernelwright.harness.exchange import checksums, read_limit
from kernelwright.harness.interleave_stats import (
    EXCESS_FLOOR_S,
    Blocks,
    confirmable_speedup,
    excess_of,
    speedup_interval,
    systematic_floor,
    t_quantile,
)
from kernelwright.harness.poison import nbytes_of
from kernelwright.harness.precision import judged_mismatch
from kernelwright.harness.problem import Problem
from kernelwright.harness.roofline import (
    beyond_roof,
    compute_dtype,
    count_flops,
    masked_note,
    moved_bytes,
    roofline,
)
from kernelwright.harness.timing import BlockResult, BlockTimer, few_calls, l2_note, summarize
from kernelwright.harness.verify_context import Context, Rejected

MIN_BLOCKS = 6
MAX_BLOCKS = 40
# A timing cross-check whose excess lies above its bound by at most this factor is decided by fresh blocks
# (a burst of other work hit one side) rather than rejected at once; beyond it, rejected.
CONFIRM_FACTOR = 3.0
MAX_CALLS_PER_BLOCK = 64
TARGET_HALF_WIDTH = 0.01  # stop once the interval is this narrow (log terms), after min_time_s


# The interleaved run ends by this many seconds whatever the interval (BenchOptions.max_time_s permitting):
# a candidate's whole evaluation should take a few seconds on a CPU.
MAX_SECONDS = 2.5
# After every block, the outputs of CHECKED_CALLS of its calls, picked at random once the block is done,
# are checked (every call of a block with fewer). A candidate that does less work on a share `s` of its
# calls goes unseen over n checked calls with chance (1 - s)^n: over MIN_BLOCKS blocks of 4, about 8% for a
# tenth of its calls and 0.1% for a quarter (one checked call in every third block, as before, left it
# 70% and 38%). Where outputs are large, fewer a block: their transfer is the check's cost.
CHECKED_CALLS = 4
CHECKED_BYTES = 64 << 20
# Blocks last about this long on each side: long enough that the relay's round trip (a few ms on a busy
# CPU, 3-4 ms on the H200's host) and what else a block costs once (waking the frozen worker) are small
# beside a block, short enough for MIN_BLOCKS of them in a candidate's time. On a GPU a call costs far
# more than its kernel (inputs drawn, L2 flushed, host cover, checksums: about 1.5 ms a call on the H200
# for 0.2-0.7 ms kernels), so a block holds fewer calls than its length suggests.
BLOCK_SECONDS = {DeviceKind.CPU: 0.08, DeviceKind.CUDA: 0.06}


def timed_verdict(
    job: VerifyJob,
    ctx: Context,
    reference: Problem,
    line: CandidateLine,
    ref_out: Any,
    slack: float,
    verdict: Verdict,
) -> Verdict:
    """The verified verdict with both measurements and the speedup; or a rejection naming what the
    judge's own checks of the timing found."""
    target = ctx.target
    kind = target.kind
    plan = job.options
    atol, rtol = tolerances(job.reference)
    timer = BlockTimer(target)
    rng = secrets.SystemRandom()

    def seeds(n: int) -> list[int]:
        return [rng.randrange(1, 2**31 - 1) for _ in range(n)]

    with ctx.phases(JobPhase.FIRST_CALL):
        # The first calls compile and autotune; the calls after them say how long a call takes.
        first, then = seeds(max(plan.warmup, 1)), seeds(2)
        timer.warm(reference, reference.draw, first)
        line.warm(first)
        t0 = clock.perf_counter()
        timer.warm(reference, reference.draw, then)
        ref_per_call = (clock.perf_counter() - t0) / len(then)
        cand_seconds, cand_cover_us = line.warm(then)
        cand_per_call = cand_seconds / len(then)
        # One host cover for both sides, the longer of the two warm-ups' (each fits its own from a few
        # enqueue times, which differ by noise): GPU spin before each call is outside the timed calls, so
        # unequal covers would show as time one side spends beyond its reported calls.
        timer.use_cover(max(timer.cover_us, cand_cover_us))
    per_call = max(ref_per_call, cand_per_call, 1e-6)
    block_s = max(plan.min_time_s / MIN_BLOCKS, BLOCK_SECONDS[kind])
    calls = max(1, min(MAX_CALLS_PER_BLOCK, int(block_s / per_call), _calls_that_fit(ctx, ref_out)))
    checked_a_block = max(1, min(CHECKED_CALLS, calls, CHECKED_BYTES // max(1, sum(nbytes_of(ref_out)))))

    blocks = Blocks()
    quiet = GpuQuiet(target.device) if target.is_cuda else None
    pair = _Pair(ctx, timer, reference, line, atol, rtol, slack, read_limit(nbytes_of(ref_out)), quiet)
    # A settling pair, not counted: the candidate's worker is fresh and the judge is not, and the first
    # block's allocations (new device or heap memory for a block's inputs and kept outputs) cost the
    # fresh process more; after one block both allocators hold what a block needs.
    pair.run(seeds(calls), "the settling block", False)

    def one_block(into: Blocks, what: str) -> None:
        b = len(into.ratios)
        block_seeds = seeds(calls)
        ref_block, cand_reply, cand_wall = pair.run(block_seeds, f"{what} {b + 1}", b % 2 == 1)
        pair.check_calls(
            ref_block, cand_reply, block_seeds, sorted(rng.sample(range(calls), checked_a_block)), b
        )
        ref_med = statistics.median(ref_block.samples_us)
        cand_med = statistics.median(cand_reply.samples_us)
        if cand_med <= 0.0:
            raise Rejected(CheckName.TIMING, f"{what} {b + 1}: the candidate reported calls of 0 µs")
        into.ratios.append(ref_med / cand_med)
        into.ref_samples += ref_block.samples_us
        into.cand_samples += cand_reply.samples_us
        into.dropped += cand_reply.dropped
        # The relay's round trip right after the block: an ask that does nothing, the same path.
        rtt, rtt_total = line.round_trip()
        ref_over = ref_block.wall_s - sum(ref_block.samples_us) * 1e-6 * calls / len(ref_block.samples_us)
        reported = sum(cand_reply.samples_us) * 1e-6 * calls / len(cand_reply.samples_us)
        into.ref_over_s.append(ref_over)
        into.cand_over_s.append(cand_wall - rtt - reported)
        into.rtt_s.append(rtt)
        into.rtt_total_s.append(rtt_total)
        into.quiet_s.append(pair.last_quiet)
        into.cand_reported_s.append(reported)
        into.cand_outside_us.append(max(0.0, (cand_wall - rtt - ref_over) * 1e6 / calls))

    started = clock.perf_counter()
    while True:
        one_block(blocks, "timing block")
        # From the reference's call times on the judge's own clock: nothing the candidate reports.
        floor = systematic_floor(kind, statistics.median(blocks.ref_samples) * 1e-6)
        limit = max(2 * plan.min_time_s, min(plan.max_time_s, MAX_SECONDS))
        if _enough(blocks, clock.perf_counter() - started, plan.min_time_s, limit, floor):
            break

    ctx.notes.append(_diagnostics(blocks, calls))
    early = excess_of(blocks, kind)
    decided_by = len(blocks.ratios)
    if early.allowed < early.excess <= CONFIRM_FACTOR * early.allowed:
        # Near the bound: a burst of other work on the machine can land in a few blocks of one side. Fresh
        # blocks decide; a clock cheat shows in them as it did in the first (it cannot know which count).
        # They join the estimate too, so blocks that flattered the candidate are diluted, not kept alone.
        for _ in range(MIN_BLOCKS):
            one_block(blocks, "confirming block")
        ctx.notes.append(
            f"timing cross-check decided by {MIN_BLOCKS} more blocks: the first {decided_by} showed "
            f"{early.excess * 1e3:.2f} ms per block beyond the reported calls (allowed "
            f"{early.allowed * 1e3:.2f} ms)"
        )
        checked = _cross_check(ctx, blocks.since(decided_by), kind)
    elif early.fixed < early.excess:
        # Within the bound only by the noise allowance: more blocks shrink it (as one over the square root
        # of their number) while a consistent shift stays, so all the blocks decide.
        for _ in range(2 * MIN_BLOCKS):
            one_block(blocks, "confirming block")
        ctx.notes.append(
            f"timing cross-check decided over {len(blocks.ratios)} blocks: the first {decided_by} showed "
            f"{early.excess * 1e3:.2f} ms per block beyond the reported calls, within the allowed "
            f"{early.allowed * 1e3:.2f} ms only by the blocks' noise"
        )
        checked = _cross_check(ctx, blocks, kind)
    else:
        checked = _cross_check(ctx, blocks, kind)
    ctx.notes.append(_outputs_checked(len(blocks.ratios), calls, checked_a_block))
    estimate = _confirmed(ctx, blocks, calls, kind, speedup_interval(blocks.ratios, calls, floor))
    method = TimingMethod.CUDA_EVENTS if target.is_cuda else TimingMethod.CPU_PERF_COUNTER
    cand_stats = replace(
        summarize(
            blocks.cand_samples,
            method,
            l2_flushed=target.is_cuda,
            input_sets=len(blocks.cand_samples),
            l2_not_reset=timer.l2_not_reset,
        ),
        host_median_us=statistics.median(blocks.cand_outside_us),
        host_late=blocks.dropped,
    )
    ref_stats = summarize(
        blocks.ref_samples,
        method,
        l2_flushed=target.is_cuda,
        input_sets=len(blocks.ref_samples),
        l2_not_reset=timer.l2_not_reset,
    )
    m_cand = replace(
        _measurement(job, ctx, reference, ref_out, cand_stats, job.candidate.source, calls, estimate),
        phase_seconds={k: v for k, v in ctx.phases.merged({}).items() if k in TIMING_PHASES},
    )
    m_ref = replace(
        _measurement(job, ctx, reference, ref_out, ref_stats, job.reference.source, calls, None),
        symbol=job.reference.symbol,
        phase_seconds={},
    )
    too_fast = beyond_roof(m_cand.roofline)
    if too_fast:
        ctx.flag(Flag.SUSPICIOUS_TIMING)
        raise Rejected(CheckName.ROOFLINE, too_fast)
    return replace(
        verdict,
        measurement=m_cand,
        reference_measurement=m_ref,
        speedup=estimate,
        phase_seconds=ctx.phases.merged({}),
        notes=(*verdict.notes, *ctx.notes[len(verdict.notes) :]),
        # What the timing cross-check found, per block: a pass's margin (benchmarks/cross_check.py).
        details={**verdict.details, **checked},
    )


@dataclass
class _Pair:
    """One block on each side, on the same seeds: the reference here, the candidate in its worker."""

    ctx: Context
    timer: BlockTimer
    reference: Problem
    line: CandidateLine
    atol: float | None
    rtol: float | None
    slack: float
    limit: int
    quiet: GpuQuiet | None = None
    last_quiet: float = 0.0

    def run(
        self, seeds: list[int], what: str, candidate_first: bool
    ) -> tuple[BlockResult, TimingReply, float]:
        if candidate_first:
            reply, wall = self._candidate(seeds, what)
        with self.ctx.phases(JobPhase.TIMING_REFERENCE):
            ref_block = self.timer.block(self.reference, self.reference.draw, seeds)
        if not candidate_first:
            reply, wall = self._candidate(seeds, what)
        return ref_block, reply, wall

    def _candidate(self, seeds: list[int], what: str) -> tuple[TimingReply, float]:
        with self.ctx.phases(JobPhase.TIMING_CANDIDATE):
            reply, wall = self.line.time_block(seeds, what, self.timer.cover_us)
            if self.quiet is not None:
                # Work the candidate left running on the GPU (its own synchronise skipped or patched)
                # would run into the reference's next block: wait it out, and count it as the candidate's.
                self.last_quiet = self.quiet.wait()
                wall += self.last_quiet
            return reply, wall

    def check_calls(
        self, ref_block: BlockResult, reply: TimingReply, seeds: list[int], calls: list[int], block: int
    ) -> None:
        """The outputs of some timed calls, picked after the block: each must be what the candidate
        committed to inside the block, and match the reference's output for the same inputs."""
        asked = f"timing block {block + 1}, calls {', '.join(str(c + 1) for c in calls)}"
        with self.ctx.phases(JobPhase.TIMED_OUTPUT_CHECK):
            sent = self.line.send(calls, f"timed-{block + 1}.out", self.limit, asked)
            for call, out_c in zip(calls, sent, strict=True):
                what = f"timing block {block + 1}, call {call + 1} (inputs from seed {seeds[call]})"
                if checksums(out_c) != reply.checksums[call]:
                    raise Rejected(
                        CheckName.TIMED_OUTPUT,
                        f"{what}: the output the candidate handed over after the block is not the one it "
                        f"committed to during the block (its checksums differ): its work was not done "
                        f"while timed",
                        trial=block + 1,
                    )
                tolerance = (self.atol, self.rtol, self.slack)
                outputs = (out_c, ref_block.outputs[call])
                mismatch = judged_mismatch(
                    self.ctx, self.reference, seeds[call], outputs, None, tolerance, what
                )
                if mismatch is not None:
                    raise Rejected(
                        mismatch.check if mismatch.check is not CheckName.VALUE else CheckName.TIMED_OUTPUT,
                        f"{what}: a timed call's output is wrong, though the checked trials passed (it "
                        f"computes something else while timed): {mismatch.message}",
                        details=mismatch.details,
                        trial=block + 1,
                    )


TIMING_PHASES = frozenset(
    p.value
    for p in (
        JobPhase.FIRST_CALL,
        JobPhase.TIMING_REFERENCE,
        JobPhase.TIMING_CANDIDATE,
        JobPhase.TIMED_OUTPUT_CHECK,
    )
)
RETAINED_SHARE = 0.1  # of free memory (device memory on a GPU) for one block's outputs, on each side
CPU_RETAINED_BYTES = 1 << 30


def _calls_that_fit(ctx: Context, ref_out: Any) -> int:
    """Each side keeps every output of a block until the judge has picked the ones it checks."""
    per_call = max(1, sum(nbytes_of(ref_out)))
    if ctx.target.is_cuda:
        free, _ = torch.cuda.mem_get_info(ctx.target.device)
        return max(1, int(RETAINED_SHARE * free / 2 // per_call))
    return max(1, CPU_RETAINED_BYTES // per_call)


class GpuQuiet:
    """Waits until no other process keeps the GPU busy. Contexts of two processes share the GPU by time
    slices, so while the candidate's left-over work runs, a tiny kernel of the judge's waits its turn:
    its round trip on the host clock, against the one measured on a quiet GPU, shows it."""

    PROBES = 7
    FACTOR = 3.0
    SLACK_S = 20e-6
    LIMIT_S = 30.0

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._one = torch.zeros(1, device=device)
        self.probe()
        self.idle_s = statistics.median(self.probe() for _ in range(self.PROBES))

    def probe(self) -> float:
        clock.cuda_synchronize(self.device)
        t0 = clock.perf_counter()
        self._one.add_(1.0)
        clock.cuda_synchronize(self.device)
        return clock.perf_counter() - t0

    def wait(self) -> float:
        """Seconds until two probes in a row are back at the quiet round trip (at most LIMIT_S), beyond
        what two probes take on a quiet GPU (the wait's own cost, which the reference's blocks do not
        pay)."""
        started = clock.perf_counter()
        quiet_in_a_row = 0
        while quiet_in_a_row < 2 and clock.perf_counter() - started < self.LIMIT_S:
            quiet = self.probe() <= self.FACTOR * self.idle_s + self.SLACK_S
            quiet_in_a_row = quiet_in_a_row + 1 if quiet else 0
        return max(0.0, clock.perf_counter() - started - 2 * self.idle_s)


def _enough(blocks: Blocks, elapsed: float, min_s: float, max_s: float, floor: float) -> bool:
    n = len(blocks.ratios)
    if n >= MAX_BLOCKS or (elapsed >= max_s and n >= 2):
        return True
    if n < MIN_BLOCKS or elapsed < min_s:
        return False
    logs = [math.log(r) for r in blocks.ratios]
    half = t_quantile(n - 1) * statistics.stdev(logs) / math.sqrt(n)
    return half <= max(TARGET_HALF_WIDTH, floor)


def _diagnostics(blocks: Blocks, calls: int) -> str:
    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1e3:.2f}"

    return (
        f"interleaved timing, medians per block of {calls} calls (ms): candidate beyond its reported "
        f"times {ms(blocks.cand_over_s)}, reference beyond its own {ms(blocks.ref_over_s)}, relay round "
        f"trip {ms(blocks.rtt_s)} taken off ({ms(blocks.rtt_total_s)} in all), GPU quiet wait "
        f"{ms(blocks.quiet_s)}, candidate reported "
        f"{ms(blocks.cand_reported_s)}"
    )


def _outputs_checked(blocks: int, calls: int, checked_a_block: int) -> str:
    """What the timed-output checks covered, and what they could have missed (docs/PITFALLS.md 24)."""
    checked = blocks * checked_a_block
    unseen = 0.9**checked
    return (
        f"timed outputs checked: {checked} of {blocks * calls} timed calls ({checked_a_block} a block, "
        f"picked after it); a candidate doing less work on a tenth of its calls would have gone unseen "
        f"with chance {unseen:.1%}"
    )


def _confirmed(
    ctx: Context, blocks: Blocks, calls: int, kind: DeviceKind, estimate: SpeedupEstimate
) -> SpeedupEstimate:
    """The estimate with its low end no higher than what the judge's clock can confirm (CPU: see
    confirmable_speedup) where the interval claims a speedup, and a note saying so where that lowered it."""
    ref_block_s = statistics.median(blocks.ref_samples) * 1e-6 * calls
    cand_block_s = statistics.median(blocks.cand_reported_s)
    most = confirmable_speedup(ref_block_s, cand_block_s, kind)
    if most is None or most >= estimate.low or estimate.low <= 1.0:
        return estimate  # confirmed, or no speedup claimed in the first place
    ctx.notes.append(
        f"the judge's clock confirms at most {most:.2f}x here, so the interval's low end is that: the "
        f"reference's calls take {ref_block_s * 1e3:.2f} ms a block and the candidate reports "
        f"{cand_block_s * 1e3:.2f} ms, and time hidden below {EXCESS_FLOOR_S[kind] * 1e3:.0f} ms a block "
        f"cannot be told from a block's own cost (calls this short can claim little on a CPU)"
    )
    return replace(estimate, low=most)


def _cross_check(ctx: Context, blocks: Blocks, kind: DeviceKind) -> dict[str, float]:
    """The candidate's reported times against the judge's clock around its blocks: what it found (per
    block, in ms), which a rejection's details and a pass's carry alike."""
    found = excess_of(blocks, kind)
    excess, allowed = found.excess, found.allowed
    figures = {
        "excess_ms_per_block": excess * 1e3,
        "allowed_ms_per_block": allowed * 1e3,
        "reported_ms_per_block": statistics.median(blocks.cand_reported_s) * 1e3,
    }
    if excess > allowed:
        ctx.flag(Flag.SUSPICIOUS_TIMING)
        claimed = statistics.median(blocks.cand_samples)
        outside = statistics.median(blocks.cand_outside_us)
        ref_over = statistics.median(blocks.ref_over_s) * 1e3
        raise Rejected(
            CheckName.TIMING,
            f"the candidate's process reported {claimed:.1f} µs per call, but the judge's clock "
            f"around its timing blocks says {outside:.1f} µs per call: each block took {excess * 1e3:.2f} ms "
            f"more than its reported call times and the overhead the reference's blocks show "
            f"({ref_over:.2f} ms) account for (allowed {allowed * 1e3:.2f} ms): the time went somewhere "
            f"the reported times do not show (a patched clock, a side stream or thread, work deferred "
            f"past the call)",
            details={"reported_us": claimed, "outside_us": outside, **figures},
        )
    return figures


def _measurement(
    job: VerifyJob,
    ctx: Context,
    reference: Problem,
    ref_out: Any,
    timing: TimingStats,
    source: str,
    calls: int,
    estimate: SpeedupEstimate | None,
) -> Measurement:
    """A measurement from the judge's data. The roofline counts the problem's bytes and flops from the
    reference (the work the problem asks for), never from what the candidate's process says."""
    target = ctx.target
    roof = flops = None
    first = reference.draw(1)
    if target.is_cuda:
        module = reference.target if isinstance(reference.target, torch.nn.Module) else None
        nbytes = moved_bytes(first, ref_out, module, skip=reference.output_args)
        flops = None if reference.output_args else count_flops(lambda: reference(first))
        total = flops.total if flops else None
        roof = roofline(
            nbytes, total, compute_dtype(first, flops), timing.median_us, target.info, job.calibration
        )
    notes = [f"interleaved with the reference in blocks of {calls} calls, fresh inputs per call"]
    if note := masked_note(flops):
        notes.append(note)
    if estimate is not None:
        notes.append(
            f"speedup {estimate.ratio:.3f}x, 95% interval {estimate.low:.3f}-{estimate.high:.3f} over "
            f"{estimate.blocks} blocks"
        )
    notes.extend(note for note in (few_calls(timing), l2_note(timing)) if note)
    if not target.is_cuda:
        notes.append("timed on the CPU: no roofline (CPU figures are not GPU figures)")
    return Measurement(
        symbol=job.reference.symbol,
        source_hash=content_key(source),
        device=target.info,
        timing=timing,
        versions=versions(),
        created_at=time.time(),
        problem_size=problem_size(first),
        roofline=roof,
        notes=tuple(notes),
    )
