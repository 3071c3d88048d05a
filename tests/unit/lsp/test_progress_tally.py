"""The optimize progress line: round, candidates passed of those tried, best verified speedup so far."""

from __future__ import annotations

from kernelwright.core.measure import CheckName, Verdict
from kernelwright.lsp.optimize_run import ProgressTally
from kernelwright.optimize.budget import BudgetAxis
from kernelwright.optimize.events import BudgetSpent, NewBest, RoundStarted, VerdictReady

PASSED = Verdict(passed=True, check=None, message="passed 3 trials")
FAILED = Verdict(passed=False, check=CheckName.VALUE, message="values differ")


def test_the_line_counts_passed_of_tried_and_keeps_the_best() -> None:
    tally = ProgressTally(rounds=3)
    assert (
        tally.update(RoundStarted(round=1, wanted=4))
        == "round 1/3 · waiting for the first candidate's verdict"
    )
    # The unchanged original is timed as the baseline, not counted as a candidate.
    assert tally.update(VerdictReady("orig", 1, PASSED, "", is_baseline=True)) is None
    assert tally.update(VerdictReady("c1", 1, FAILED, "")) == (
        "round 1/3 · 0 of 1 candidates passed · no verified speedup yet"
    )
    tally.update(VerdictReady("c2", 1, PASSED, "", speedup=2.4))
    assert tally.update(NewBest("c2", 1, speedup=2.4, median_us=10.0)) == (
        "round 1/3 · 1 of 2 candidates passed · best 2.40x"
    )
    assert (
        tally.update(RoundStarted(round=2, wanted=4)) == "round 2/3 · 1 of 2 candidates passed · best 2.40x"
    )
    assert tally.percent() == 33
    # A reply with no code counts as tried and not passed.
    tally.update(VerdictReady("c3", 2, None, "no code block in the reply"))
    assert tally.line() == "round 2/3 · 1 of 3 candidates passed · best 2.40x"


def test_a_spent_budget_is_named_on_the_line() -> None:
    tally = ProgressTally(rounds=2)
    tally.update(RoundStarted(round=1, wanted=2))
    spent = tally.update(BudgetSpent(BudgetAxis.TIME, "time budget spent (80 s)"))
    assert spent == "round 1/2 · waiting for the first candidate's verdict · time budget spent (80 s)"
    assert tally.update(object()) is None
