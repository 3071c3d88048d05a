"""Budgets: the CLI's key=value form, and which axis runs out first."""

from __future__ import annotations

import pytest
from kernelwright.core.candidate import Usage
from kernelwright.core.errors import UsageError
from kernelwright.core.settings import BudgetSettings
from kernelwright.optimize.budget import Budget, BudgetAxis, Spent, parse_budget


def test_parse_every_key() -> None:
    b = parse_budget("rounds=3, candidates=9,time=120s,tokens=50000,cost=$1.5,target=0.8,per_round=2")
    assert b == Budget(
        rounds=3,
        candidates=9,
        wall_seconds=120.0,
        tokens=50000,
        cost_usd=1.5,
        target_roofline=0.8,
        per_round=2,
    )


def test_empty_keeps_defaults() -> None:
    assert parse_budget("") == Budget()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rounds", "key=value"),
        ("speed=3", "key=value"),
        ("rounds=three", "`three` is not a whole number, e.g. rounds=4"),
        ("cost=-1", "cost must be dollars, above 0"),
        ("target=1.5", r"target must be a fraction of the roofline in \(0, 1\]"),
        ("rounds=0", "rounds must be a whole number of rounds, at least 1"),
        ("candidates=0", "candidates must be a whole number of candidates, at least 1"),
        ("time=-5", "`time=-5`: time must be seconds, above 0, e.g. time=600"),
        ("time=nan", "time must be seconds"),
        ("limit=0", "limit must be seconds, above 0"),
    ],
)
def test_bad_items_are_usage_errors_naming_the_fix(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_budget(text)


def test_the_safety_limit_defaults_past_the_time_budget() -> None:
    assert parse_budget("time=80").hard_limit() == 200  # at least two minutes more
    assert parse_budget("time=600").hard_limit() == 1200  # twice the budget
    assert parse_budget("time=80,limit=300").hard_limit() == 300
    assert parse_budget("time=80,limit=10").hard_limit() == 80  # never below the time budget


def test_candidates_per_round_spreads_the_total() -> None:
    assert Budget(rounds=4, candidates=16).candidates_per_round() == 4
    assert Budget(rounds=3, candidates=10).candidates_per_round() == 4
    assert Budget(rounds=3, candidates=10, per_round=2).candidates_per_round() == 2


def test_exhausted_names_the_first_axis_spent() -> None:
    budget = Budget(rounds=3, candidates=10, wall_seconds=60, tokens=1000, cost_usd=0.5)
    assert Spent().exhausted(budget) is None
    assert Spent(rounds=3).exhausted(budget) is BudgetAxis.ROUNDS
    assert Spent(candidates=10).exhausted(budget) is BudgetAxis.CANDIDATES
    assert Spent(seconds=61).exhausted(budget) is BudgetAxis.TIME
    assert Spent(usage=Usage(input_tokens=900, output_tokens=200)).exhausted(budget) is BudgetAxis.TOKENS
    assert Spent(usage=Usage(cost_usd=0.6)).exhausted(budget) is BudgetAxis.COST


def test_from_settings() -> None:
    b = Budget.from_settings(
        BudgetSettings(rounds=2, candidates=5, wall_seconds=30.0, tokens=10, cost_usd=0.1)
    )
    assert (b.rounds, b.candidates, b.wall_seconds, b.tokens, b.cost_usd) == (2, 5, 30.0, 10, 0.1)
