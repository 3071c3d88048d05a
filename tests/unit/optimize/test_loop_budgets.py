"""Budgets that give candidates the time they need, say what they cut off, and a reference that fails
(issue 15): with the scripted provider and evaluator of test_loop.py (no workers)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kernelwright.core.candidate import Candidate
from kernelwright.core.measure import CheckName, Verdict
from kernelwright.optimize.budget import Budget, BudgetAxis
from kernelwright.optimize.events import (
    BudgetSpent,
    Done,
    Error,
    Event,
    Note,
    Status,
    VerdictReady,
    event_json,
)
from unit.optimize.test_loop import ScriptedProvider, model_new, run, verdict_for


class SlowEvaluator:
    """Each candidate's verdict after `delays[tag]` seconds (the original's at once)."""

    def __init__(self, delays: dict[str, float], verdicts: Callable[[Candidate], Verdict]) -> None:
        self.delays = delays
        self.verdicts = verdicts
        self.cancelled: list[str] = []

    async def evaluate(self, candidate: Candidate) -> Verdict:
        tag = "original" if candidate.is_baseline else candidate.source.rsplit("# ", 1)[-1].strip()
        try:
            await asyncio.sleep(self.delays.get(tag, 0.0))
        except asyncio.CancelledError:
            self.cancelled.append(candidate.id)
            raise
        return self.verdicts(candidate)


def fast_unless_baseline(c: Candidate) -> Verdict:
    return verdict_for(101.0) if c.is_baseline else verdict_for(40.0)


def done_of(events: list[Event]) -> Done:
    done = events[-1]
    assert isinstance(done, Done)
    return done


async def test_a_candidate_running_when_the_time_budget_ends_is_given_time_to_finish() -> None:
    provider = ScriptedProvider([[model_new("cold_compile")]])
    evaluator = SlowEvaluator({"cold_compile": 0.6}, fast_unless_baseline)
    events = await run(
        provider, evaluator, Budget(rounds=1, candidates=1, wall_seconds=0.1, limit_seconds=30)
    )
    result = done_of(events).result
    assert result.status is Status.IMPROVED, result.message
    assert result.cut_off == () and evaluator.cancelled == []
    notes = [e.message for e in events if isinstance(e, Note)]
    assert any(
        "time budget spent" in n and "r1-c1 may finish until the safety limit (30 s)" in n for n in notes
    )


async def test_the_safety_limit_cuts_off_what_still_runs_and_says_so() -> None:
    provider = ScriptedProvider([[model_new("quick"), model_new("stuck")]])
    evaluator = SlowEvaluator({"stuck": 60.0}, fast_unless_baseline)
    events = await run(
        provider, evaluator, Budget(rounds=2, candidates=4, wall_seconds=0.1, limit_seconds=0.5)
    )
    cut = [e for e in events if isinstance(e, VerdictReady) and e.cut_off is not None]
    assert [(e.candidate_id, e.cut_off) for e in cut] == [("r1-c2", BudgetAxis.LIMIT)]
    assert cut[0].verdict is None and cut[0].message.startswith("not finished: the safety time limit (0 s)")
    line = event_json(cut[0])
    assert isinstance(line, dict) and line["kind"] == "verdict" and line["cut_off"] == "limit"
    (spent,) = [e for e in events if isinstance(e, BudgetSpent)]
    assert spent.axis is BudgetAxis.LIMIT and "cut off r1-c2 before a verdict" in spent.message
    assert evaluator.cancelled == ["r1-c2"]
    result = done_of(events).result
    # The one that finished still counts; the run names the budget and what it cut off.
    assert result.status is Status.IMPROVED and result.best_candidate is not None
    assert result.best_candidate.id == "r1-c1"
    assert result.stopped_by is BudgetAxis.LIMIT and result.cut_off == ("r1-c2",)
    assert result.stop_message == spent.message
    assert [a.check for a in result.attempts if a.candidate_id == "r1-c2"] == ["not_finished"]
    assert len(provider.requests) == 1  # no new round after the limit


async def test_with_nothing_verified_the_message_names_the_cut_off_candidates() -> None:
    provider = ScriptedProvider([[model_new("stuck")]])
    evaluator = SlowEvaluator({"stuck": 60.0}, fast_unless_baseline)
    events = await run(
        provider, evaluator, Budget(rounds=1, candidates=1, wall_seconds=0.1, limit_seconds=0.4)
    )
    result = done_of(events).result
    assert result.status is Status.NO_IMPROVEMENT
    assert "had no verdict when the time ran out (r1-c1)" in result.message
    assert "--budget time=" in result.message


async def test_a_reference_that_cannot_run_fails_the_run() -> None:
    def verdicts(c: Candidate) -> Verdict:
        return Verdict(
            False,
            CheckName.PROBLEM,
            "problem: the reference did not load: x.py:3: raised RuntimeError",
            trials=0,
        )

    provider = ScriptedProvider([[model_new("a")]])
    events = await run(provider, SlowEvaluator({}, verdicts), Budget(rounds=2, candidates=2))
    errors = [e for e in events if isinstance(e, Error)]
    assert [e.stage for e in errors] == ["reference"]
    assert "the original code could not be run as the reference" in errors[0].message
    assert "kernelwright bench /w/softmax.py" in errors[0].message
    result = done_of(events).result
    assert result.status is Status.FAILED and "raised RuntimeError" in result.message
    assert len(provider.requests) == 1


async def test_an_original_that_fails_its_own_check_fails_the_run() -> None:
    def verdicts(c: Candidate) -> Verdict:
        if c.is_baseline:
            return Verdict(False, CheckName.RUN, "run: the job ran past its time-out (verify did not finish)")
        return verdict_for(40.0)

    provider = ScriptedProvider([[model_new("a")]])
    evaluator = SlowEvaluator({"a": 5.0}, verdicts)
    events = await run(provider, evaluator, Budget(rounds=1, candidates=1))
    result = done_of(events).result
    assert result.status is Status.FAILED
    assert "checked as a candidate against itself, was rejected (run: the job ran past" in result.message
    assert evaluator.cancelled == ["r1-c1"]  # nothing else is judged against a reference that fails


async def test_the_best_carries_the_figures_of_its_own_run() -> None:
    provider = ScriptedProvider([[model_new("a")]])
    evaluator = SlowEvaluator(
        {}, lambda c: verdict_for(101.0) if c.is_baseline else verdict_for(25.0, ref=103.0)
    )
    result = done_of(await run(provider, evaluator, Budget(rounds=1, candidates=1))).result
    assert result.best_us == 25.0 and result.best_reference_us == 103.0
    assert result.best_speedup_low is not None and result.best_speedup_high is not None
    assert result.best_speedup_low <= result.best_reference_us / result.best_us <= result.best_speedup_high
    assert "25 µs against the original's 103 µs" in result.message
    assert [a.reference_us for a in result.attempts] == [100.0, 103.0]
