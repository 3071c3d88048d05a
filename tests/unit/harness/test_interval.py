"""The speedup interval of an interleaved run: never narrower than the systematic floor, which on a CPU
is wider for calls that are mostly torch's dispatch."""

from __future__ import annotations

import math

import pytest
from kernelwright.core.measure import DeviceKind
from kernelwright.harness.interleave_stats import (
    EXCESS_SHARE,
    NOISE_CAP,
    SHORT_CALL_FLOOR,
    SHORT_CALL_S,
    SYSTEMATIC_FLOOR,
    Blocks,
    excess_of,
    speedup_interval,
    systematic_floor,
)


def test_short_cpu_calls_get_the_wider_floor_and_gpu_calls_never_do() -> None:
    assert (
        systematic_floor(DeviceKind.CPU, SHORT_CALL_S / 4)
        == SHORT_CALL_FLOOR
        > SYSTEMATIC_FLOOR[DeviceKind.CPU]
    )
    assert systematic_floor(DeviceKind.CPU, SHORT_CALL_S * 4) == SYSTEMATIC_FLOOR[DeviceKind.CPU]
    assert systematic_floor(DeviceKind.CUDA, SHORT_CALL_S / 4) == SYSTEMATIC_FLOOR[DeviceKind.CUDA]


def test_identical_blocks_still_give_an_interval_as_wide_as_the_floor() -> None:
    estimate = speedup_interval([1.0] * 10, calls_per_block=32, floor=SHORT_CALL_FLOOR)
    assert math.isclose(estimate.low, math.exp(-SHORT_CALL_FLOOR))
    assert math.isclose(estimate.high, math.exp(SHORT_CALL_FLOOR))
    # The measured 1.32x between two processes running the same short call lies inside it.
    assert estimate.low <= 1 / 1.32 and estimate.high >= 1.32


def test_noisy_blocks_widen_it_beyond_the_floor() -> None:
    noisy = speedup_interval([0.5, 2.0, 0.6, 1.8, 1.0, 1.1], calls_per_block=32, floor=0.02)
    assert math.log(noisy.high / noisy.ratio) > 0.02


def _blocks(reported_s: float, excess_s: list[float]) -> Blocks:
    n = len(excess_s)
    return Blocks(
        ref_over_s=[0.001] * n,
        cand_over_s=[0.001 + e for e in excess_s],
        cand_reported_s=[reported_s] * n,
        ratios=[1.0] * n,
    )


NOISE = (-0.03, -0.02, -0.01, 0.0, 0.0, 0.01, 0.02, 0.03, 0.04, -0.04)  # other work landing on blocks


@pytest.mark.parametrize(("slowed", "reported"), [(10, 0.004), (3, 0.02)], ids=["10x clock", "3x clock"])
def test_on_a_busy_cpu_noise_cannot_cover_a_slowed_clock(slowed: int, reported: float) -> None:
    # A clock slowed F times: each block takes (F - 1) times its reported time beyond it, with a wide
    # spread of other work landing on the blocks (a CI run on 2 cores): the noise term is capped, so it
    # is still too much. 3x is caught for blocks of 20 ms reported (CPU blocks are sized to 80 ms).
    spread = [(slowed - 1) * reported + d for d in NOISE]
    found = excess_of(_blocks(reported, spread), DeviceKind.CPU)
    assert found.noise == NOISE_CAP[DeviceKind.CPU] * EXCESS_SHARE[DeviceKind.CPU] * reported
    assert found.excess > found.allowed


@pytest.mark.parametrize("reported", [0.0006, 0.004, 0.02, 0.08])
def test_an_honest_candidate_s_fixed_cost_stays_inside_the_bound(reported: float) -> None:
    # Honest candidates, compiled or not, showed 1-3.6 ms a block beyond the reference's overhead on the
    # 2-core VM, whatever their call time (benchmarks/cross_check.py): inside the floor alone, here with
    # the busy machine's spread on top.
    honest = excess_of(_blocks(reported, [0.0036 + d / 10 for d in NOISE]), DeviceKind.CPU)
    assert honest.excess <= honest.fixed < honest.allowed


def test_quiet_blocks_get_little_noise_allowance() -> None:
    found = excess_of(_blocks(0.004, [0.010] * 8), DeviceKind.CPU)
    assert found.noise == 0.0 and found.allowed == found.fixed


def test_a_cpu_speedup_is_confirmed_only_as_far_as_the_judge_s_clock_sees() -> None:
    from types import SimpleNamespace

    from kernelwright.core.measure import SpeedupEstimate
    from kernelwright.harness.interleave import _confirmed
    from kernelwright.harness.interleave_stats import EXCESS_FLOOR_S, confirmable_speedup

    floor = EXCESS_FLOOR_S[DeviceKind.CPU]
    # 64 calls of 4 µs a block claimed 10x faster: nothing the judge's clock can see.
    assert confirmable_speedup(64 * 4e-6, 64 * 0.4e-6, DeviceKind.CPU) == pytest.approx(
        64 * 4e-6 / (64 * 0.4e-6 + floor)
    )
    assert confirmable_speedup(1.0, 0.1, DeviceKind.CUDA) is None  # the roofline bounds GPU claims
    claimed = SpeedupEstimate(ratio=10.0, low=9.0, high=11.0, blocks=8, calls_per_block=64)
    ctx = SimpleNamespace(notes=[])
    tiny = Blocks(ref_samples=[4.0] * 64, cand_reported_s=[64 * 0.4e-6] * 8)
    capped = _confirmed(ctx, tiny, 64, DeviceKind.CPU, claimed)  # type: ignore[arg-type]
    assert capped.low < 0.1 and capped.ratio == 10.0 and not capped.clears(1.0)
    assert any("confirms at most" in n for n in ctx.notes), ctx.notes
    # Long calls (80 ms a block) confirm a 2x claim up to 80 / (40 + 5) = 1.78x: an interval from 1.7 is
    # untouched, and gets no note.
    ctx = SimpleNamespace(notes=[])
    long = Blocks(ref_samples=[8000.0] * 10, cand_reported_s=[0.04] * 8)
    two = SpeedupEstimate(ratio=2.0, low=1.7, high=2.3, blocks=8, calls_per_block=10)
    assert _confirmed(ctx, long, 10, DeviceKind.CPU, two) == two and ctx.notes == []
    # An interval that claims no speedup is left as it is.
    none = SpeedupEstimate(ratio=1.0, low=0.9, high=1.1, blocks=8, calls_per_block=64)
    assert _confirmed(SimpleNamespace(notes=[]), tiny, 64, DeviceKind.CPU, none) == none  # type: ignore[arg-type]
