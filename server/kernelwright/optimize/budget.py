"""BudgetSettings of an optimize run: rounds, candidates, wall time, tokens, money, and a roofline target.

`parse_budget("rounds=4,candidates=16,time=600,tokens=200000,cost=2.50")` is the CLI's form; the LSP
builds one from `core.settings.BudgetSettings`.

Time has two limits. `time` is when no new round or candidate starts: a candidate already being
evaluated is given the time it needs (a cold torch.compile on a busy laptop takes minutes), up to the
safety limit `limit` (default: twice `time`, at least two minutes more), where what still runs is cut
off and reported as "not finished".
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, NamedTuple

from kernelwright.core.candidate import Usage
from kernelwright.core.errors import UsageError
from kernelwright.core.settings import BudgetSettings


class BudgetAxis(enum.StrEnum):
    ROUNDS = "rounds"
    CANDIDATES = "candidates"
    TIME = "time"  # no new round or candidate starts
    LIMIT = "limit"  # the safety limit: candidates still being evaluated are cut off
    TOKENS = "tokens"
    COST = "cost"
    TARGET = "target"  # the best candidate reached the roofline fraction asked for
    EXHAUSTED = "exhausted"  # the provider has nothing new to propose


# The defaults are the settings' (one place: core.settings.BudgetSettings).
_DEFAULTS = BudgetSettings()


@dataclass(frozen=True)
class Budget:
    rounds: int = _DEFAULTS.rounds
    candidates: int = _DEFAULTS.candidates
    wall_seconds: float = _DEFAULTS.wall_seconds
    tokens: int | None = _DEFAULTS.tokens
    cost_usd: float | None = _DEFAULTS.cost_usd
    target_roofline: float | None = None  # stop once the best reaches this fraction of the roofline
    per_round: int | None = None  # candidates per round; None: spread `candidates` over `rounds`
    limit_seconds: float | None = None  # the safety limit; None: hard_limit()'s default

    def hard_limit(self) -> float:
        """Seconds after which candidates still being evaluated are cut off."""
        if self.limit_seconds is not None:
            return max(self.limit_seconds, self.wall_seconds)
        return self.wall_seconds + max(self.wall_seconds, 120.0)

    def candidates_per_round(self) -> int:
        if self.per_round is not None:
            return max(1, self.per_round)
        return max(1, math.ceil(self.candidates / max(1, self.rounds)))

    @staticmethod
    def from_settings(budgets: BudgetSettings) -> Budget:
        return Budget(
            rounds=budgets.rounds,
            candidates=budgets.candidates,
            wall_seconds=budgets.wall_seconds,
            tokens=budgets.tokens,
            cost_usd=budgets.cost_usd,
        )


class _Key(NamedTuple):
    field: str  # Budget's field
    kind: Callable[[str], Any]  # int or float
    meaning: str  # what a value must be, for the message that refuses one out of range
    example: str


_KEYS = {
    "rounds": _Key("rounds", int, "a whole number of rounds, at least 1", "4"),
    "candidates": _Key("candidates", int, "a whole number of candidates, at least 1", "16"),
    "time": _Key("wall_seconds", float, "seconds, above 0", "600"),
    "tokens": _Key("tokens", int, "a whole number of tokens, at least 1", "200000"),
    "cost": _Key("cost_usd", float, "dollars, above 0", "2.5"),
    "target": _Key("target_roofline", float, "a fraction of the roofline in (0, 1]", "0.8"),
    "per_round": _Key("per_round", int, "a whole number of candidates per round, at least 1", "4"),
    "limit": _Key("limit_seconds", float, "seconds, above 0 (the safety limit)", "1200"),
}


def parse_budget(text: str, base: Budget | None = None) -> Budget:
    """`key=value` pairs separated by commas; unknown keys and bad numbers are UsageErrors naming the fix."""
    budget = base or Budget()
    known = ", ".join(_KEYS)
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in _KEYS:
            raise UsageError(f"budget item `{part}` is not key=value with a key among {known}")
        spec = _KEYS[key]
        value = value.strip().removeprefix("$").removesuffix("s" if key == "time" else "")
        try:
            number = spec.kind(value)
        except ValueError:
            what = "a whole number" if spec.kind is int else "a number"
            raise UsageError(
                f"budget item `{part}`: `{value}` is not {what}, e.g. {key}={spec.example}"
            ) from None
        if not math.isfinite(number) or number <= 0 or (key == "target" and number > 1):
            raise UsageError(f"budget item `{part}`: {key} must be {spec.meaning}, e.g. {key}={spec.example}")
        budget = replace(budget, **{spec.field: number})
    return budget


@dataclass(frozen=True)
class Spent:
    rounds: int = 0
    candidates: int = 0
    seconds: float = 0.0
    usage: Usage = field(default_factory=Usage)

    def exhausted(self, budget: Budget) -> BudgetAxis | None:
        """The first axis spent, or None while there is budget left for another round."""
        if self.rounds >= budget.rounds:
            return BudgetAxis.ROUNDS
        if self.candidates >= budget.candidates:
            return BudgetAxis.CANDIDATES
        if self.seconds >= budget.wall_seconds:
            return BudgetAxis.TIME
        if budget.tokens is not None and self.usage.total_tokens >= budget.tokens:
            return BudgetAxis.TOKENS
        if budget.cost_usd is not None and self.usage.cost_usd >= budget.cost_usd:
            return BudgetAxis.COST
        return None


def describe(budget: Budget) -> str:
    parts = []
    for f in fields(budget):
        value = getattr(budget, f.name)
        if value is not None:
            parts.append(f"{f.name}={value}")
    return ", ".join(parts)
