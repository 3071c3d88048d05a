"""What a search has learned so far: each verdict turned into the provider's feedback, the result's
attempts, the reference's same-run times and the best verified candidate; and the budget that ended
the run."""

from __future__ import annotations

import dataclasses
import statistics

from kernelwright.core.candidate import Candidate
from kernelwright.core.measure import (
    Flag,
    Verdict,
)
from kernelwright.optimize.budget import BudgetAxis
from kernelwright.optimize.evaluation import feedback_message, outcome, timings
from kernelwright.optimize.events import (
    Attempt,
    BudgetSpent,
    Event,
    NewBest,
    VerdictReady,
)
from kernelwright.optimize.request import CandidateFeedback, Outcome

# Verdicts with these flags never become the result: not a kernel, or a timing that cannot be trusted.
DISQUALIFYING = frozenset({Flag.FALLBACK, Flag.SUSPICIOUS_TIMING, Flag.TAMPER})


@dataclasses.dataclass
class Stop:
    """The budget that ended the run, and its words."""

    axis: BudgetAxis | None = None
    message: str = ""

    def spent(self, axis: BudgetAxis, message: str) -> BudgetSpent:
        self.axis, self.message = axis, message
        return BudgetSpent(axis, message)


@dataclasses.dataclass
class Best:
    candidate: Candidate
    speedup: float
    median_us: float
    fraction: float | None
    reference_us: float | None = None  # the reference's median in the best's own run
    low: float | None = None
    high: float | None = None


@dataclasses.dataclass
class Progress:
    """What a search has learned so far: the feedback the provider sees, the attempts the result lists,
    the reference's same-run timings and the best verified candidate."""

    min_speedup: float
    history: list[CandidateFeedback] = dataclasses.field(default_factory=list)
    attempts: list[Attempt] = dataclasses.field(default_factory=list)
    reference_times: list[float] = dataclasses.field(default_factory=list)
    best: Best | None = None
    timed_any: bool = False
    passed_any: bool = False
    cut_off: list[str] = dataclasses.field(default_factory=list)

    @property
    def baseline_us(self) -> float | None:
        return statistics.median(self.reference_times) if self.reference_times else None

    def no_code(self, cid: str, round_no: int, reason: str) -> VerdictReady:
        """A reply the provider gave with no usable code: a verdict, not a crash."""
        self.history.append(CandidateFeedback(cid, round_no, Outcome.NO_CODE, reason))
        self.attempts.append(Attempt(len(self.attempts) + 1, cid, round_no, False, None, None, "no_code"))
        return VerdictReady(cid, round_no, None, reason)

    def not_finished(self, cand: Candidate, axis: BudgetAxis, reason: str) -> VerdictReady:
        """A candidate a budget stopped before its verdict: a record like a verdict, never a rejection."""
        message = f"not finished: {reason}"
        self.cut_off.append(cand.id)
        self.history.append(CandidateFeedback(cand.id, cand.round, Outcome.NOT_FINISHED, message))
        self.attempts.append(
            Attempt(
                len(self.attempts) + 1,
                cand.id,
                cand.round,
                False,
                None,
                None,
                "not_finished",
                cand.is_baseline,
            )
        )
        return VerdictReady(cand.id, cand.round, None, message, is_baseline=cand.is_baseline, cut_off=axis)

    def take(self, cand: Candidate, verdict: Verdict) -> list[Event]:
        """Learn one candidate's verdict; the events to report (the verdict, and a new best if it is one)."""
        median, ref_us, fraction = timings(verdict)
        if ref_us is not None:
            self.reference_times.append(ref_us)
        estimate = verdict.speedup if median is not None else None
        speedup = estimate.ratio if estimate is not None else None
        low, high = (estimate.low, estimate.high) if estimate is not None else (None, None)
        self.timed_any = self.timed_any or median is not None
        self.passed_any = self.passed_any or (verdict.passed and not cand.is_baseline)
        check = verdict.check.value if verdict.check else None
        events: list[Event] = [
            VerdictReady(
                cand.id,
                cand.round,
                verdict,
                verdict.message,
                median,
                speedup,
                fraction,
                cand.is_baseline,
                low,
                high,
                ref_us,
            )
        ]
        self.history.append(
            CandidateFeedback(
                cand.id,
                cand.round,
                outcome(verdict),
                feedback_message(verdict),
                check,
                median,
                speedup,
                fraction,
                cand.rationale,
            )
        )
        self.attempts.append(
            Attempt(
                len(self.attempts) + 1,
                cand.id,
                cand.round,
                verdict.passed,
                speedup,
                median,
                check,
                cand.is_baseline,
                ref_us,
            )
        )
        if (
            verdict.passed
            and not cand.is_baseline
            and estimate is not None
            and speedup is not None
            and median is not None
            and not DISQUALIFYING.intersection(verdict.flags)
            and estimate.clears(self.min_speedup)
            and (self.best is None or speedup > self.best.speedup)
        ):
            self.best = Best(cand, speedup, median, fraction, ref_us, low, high)
            events.append(NewBest(cand.id, cand.round, speedup, median, fraction, low, high))
        return events
