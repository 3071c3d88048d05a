"""What an interleaved run's blocks say: the speedup with its 95% interval (never narrower than the
systematic floor two processes differ by), and the clock cross-check's allowance for what a candidate's
blocks cost beyond the call times it reported (harness/interleave.py runs the blocks and decides).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from kernelwright.core.measure import (
    DeviceKind,
    SpeedupEstimate,
)

# What two processes running the same code differ by on their own, beyond what the blocks' spread
# shows (memory placement, thread placement): the interval is never narrower than this either side. On
# a 2-core CPU with one core busy, identity rewrites of the torch samples read 0.89x-1.08x with tight
# block-to-block spreads one day and 1.12x-1.20x (judge slower) on another
# (tests/unit/optimize/test_identity_under_load.py). On an H200 (tests/gpu/test_identity_gpu.py) 13 of
# 14 readings one day were within 2% and layernorm_gelu_unfused's identity read 0.978x (1.014x in the
# next run), so 2.5%: with 2% its interval had excluded 1.00, which the suite's keep rule (faster than
# eager, the whole interval) would have taken for a real 2% had it fallen the other way.
SYSTEMATIC_FLOOR = {DeviceKind.CPU: 0.25, DeviceKind.CUDA: 0.025}


# On a CPU a call this short is mostly torch's dispatch (Python, the dispatcher, allocation), which
# depends on what else the process has loaded and done: the long-lived judge and a fresh candidate worker
# differ more. 16 identity runs of bias_gelu_function's small inputs (50-75 µs a call) on the 2-core VM
# with one core busy, both sides pinned to one core (engine.placement), read up to 1.32x (log 0.28)
# apart; so their floor is wider.
SHORT_CALL_S = 200e-6


SHORT_CALL_FLOOR = 0.35


def systematic_floor(kind: DeviceKind, call_s: float) -> float:
    """The interval's least half-width (log terms) for a reference whose calls take `call_s` (the call
    alone, as timed) on a device of `kind`."""
    if kind is DeviceKind.CPU and call_s < SHORT_CALL_S:
        return SHORT_CALL_FLOOR
    return SYSTEMATIC_FLOOR[kind]


# The cross-check: a candidate block may cost this much more, beyond the call times it reported, than
# the reference's block on the same seeds costs beyond its own (the median over blocks): a share of its
# reported time, plus NOISE_FACTOR standard errors of that median (from the blocks' own spread), plus a
# floor. A consistent shift (a patched clock, hidden work) grows with the block; noise shrinks as blocks
# accumulate.
# On a CPU the share was 4x until 2026-12-07: a torch.compile'd candidate's worker was seen spending about
# 3x its reported call time outside its calls (2026-12-01), which was never seen again. Measured on the
# 2-core VM idle and beside two busy processes (benchmarks/cross_check.py; benchmarks/BENCHMARKS.md,
# Judge), honest candidates, compiled or not, showed at most 0.08x their reported time a block, or 1-3.6 ms
# whatever the size of the call: a fixed cost, which the floor covers. At 1x, clocks slowed 3x or more
# are caught where a block's reported time is over about 10 ms (most CPU blocks: they are sized to 80 ms).
EXCESS_SHARE = {DeviceKind.CPU: 1.0, DeviceKind.CUDA: 0.1}


# The floor is what a block costs the candidate's side once and the reference's side not (its reply's
# relay, waking its frozen process): identity rewrites of the torch samples on an H200 showed 0.5-2 ms of
# it per block; on the 2-core VM the timing question's own path showed 1.3-3.6 ms (2026-12-07), and the
# CPU floor of 5 ms keeps the allowance for a block of tiny calls (64 of them, under a millisecond in all)
# where it was with the 4x share.
EXCESS_FLOOR_S = {DeviceKind.CPU: 0.005, DeviceKind.CUDA: 0.002}


NOISE_FACTOR = 3.0


def confirmable_speedup(ref_block_s: float, cand_block_s: float, kind: DeviceKind) -> float | None:
    """The most speedup the judge's own clock can confirm on a CPU, from the reference's time a block (its
    own clock) and the candidate's reported time a block: time a candidate hides below the cross-check's
    floor cannot be told from a block's own fixed cost, so the candidate may truly take up to its reported
    time plus the floor. Blocks of long calls confirm nearly what they claim; blocks of microsecond calls
    (a 10x clock on 4 µs calls passed the cross-check: docs/PITFALLS.md 2) confirm no speedup. None on a
    GPU, where the roofline bounds what a short kernel may claim instead."""
    if kind is not DeviceKind.CPU:
        return None
    return ref_block_s / (cand_block_s + EXCESS_FLOOR_S[kind])


# On a CPU the noise term never buys more than this part of the share: on the 2-core VM under a CI run
# the blocks' spread alone once covered the 10x clock of samples/adversarial/cheat_clock_scaled.py (its
# excess is 9x its reported time, the share then 4x).
NOISE_CAP = {DeviceKind.CPU: 0.5, DeviceKind.CUDA: math.inf}


T_975 = {
    1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23,
    12: 2.18, 15: 2.13, 20: 2.09, 30: 2.04,
}  # fmt: skip


def t_quantile(dof: int) -> float:
    """Student's t, 97.5th percentile (a two-sided 95% interval), for `dof` degrees of freedom."""
    if dof <= 0:
        return math.inf
    best = max(k for k in T_975 if k <= dof)
    return T_975[best] if dof <= 30 else 1.96 + 2.5 / dof


def speedup_interval(ratios: list[float], calls_per_block: int, floor: float) -> SpeedupEstimate:
    logs = [math.log(r) for r in ratios]
    mean = statistics.fmean(logs)
    half = (
        t_quantile(len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
        if len(logs) > 1
        else math.inf
    )
    half = max(half, floor)
    return SpeedupEstimate(
        ratio=math.exp(mean),
        low=math.exp(mean - half),
        high=math.exp(mean + half),
        blocks=len(ratios),
        calls_per_block=calls_per_block,
        floor=floor,
    )


@dataclass
class Blocks:
    ref_samples: list[float] = field(default_factory=list)
    cand_samples: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    # Per block, seconds: what the block cost beyond the call times reported for it (the reference's on
    # the judge's clock; the candidate's on the judge's clock around its ask, less that block's relay
    # round trip), the round trip itself, and the candidate's reported call time. Of the round trip: the
    # part taken off (harness.candidate_line.CandidateLine.round_trip) and the whole of it.
    ref_over_s: list[float] = field(default_factory=list)
    cand_over_s: list[float] = field(default_factory=list)
    rtt_s: list[float] = field(default_factory=list)
    rtt_total_s: list[float] = field(default_factory=list)
    quiet_s: list[float] = field(default_factory=list)  # GPU: the wait for the GPU to go quiet after it
    cand_reported_s: list[float] = field(default_factory=list)
    cand_outside_us: list[float] = field(default_factory=list)  # per call, the judge's estimate
    dropped: int = 0

    def since(self, first: int) -> Blocks:
        """The per-block figures of blocks `first` onwards (the samples are the whole run's)."""
        return replace(
            self,
            ratios=self.ratios[first:],
            ref_over_s=self.ref_over_s[first:],
            cand_over_s=self.cand_over_s[first:],
            rtt_s=self.rtt_s[first:],
            rtt_total_s=self.rtt_total_s[first:],
            quiet_s=self.quiet_s[first:],
            cand_reported_s=self.cand_reported_s[first:],
            cand_outside_us=self.cand_outside_us[first:],
        )


def spread(values: list[float]) -> float:
    """Median absolute deviation: how far a typical value strays from the median."""
    mid = statistics.median(values)
    return statistics.median(abs(v - mid) for v in values)


class Excess(NamedTuple):
    """Seconds per block the candidate's side took beyond its reported calls and the reference's own
    overhead (a median over blocks), and what is allowed for it: the fixed part (the share of the
    reported time and the floor) and the part the blocks' noise adds."""

    excess: float
    fixed: float
    noise: float

    @property
    def allowed(self) -> float:
        return self.fixed + self.noise


def excess_of(blocks: Blocks, kind: DeviceKind) -> Excess:
    each = [c - r for c, r in zip(blocks.cand_over_s, blocks.ref_over_s, strict=True)]
    reported = statistics.median(blocks.cand_reported_s)
    share = EXCESS_SHARE[kind] * reported
    # The standard error of a median: 1.253 sigma / sqrt(n), sigma from the MAD (1.4826 MAD).
    noise = min(NOISE_FACTOR * 1.253 * 1.4826 * spread(each) / math.sqrt(len(each)), NOISE_CAP[kind] * share)
    return Excess(statistics.median(each), share + EXCESS_FLOOR_S[kind], noise)
