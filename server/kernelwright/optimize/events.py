"""What `optimize` yields: typed events the CLI prints and the LSP maps to $/progress."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from kernelwright.core.candidate import Candidate, TextEdit, Usage
from kernelwright.core.jsonable import JsonValue, to_json
from kernelwright.core.measure import Verdict
from kernelwright.optimize.budget import BudgetAxis


class Status(enum.StrEnum):
    IMPROVED = "improved"  # a verified candidate beat the original: `edits` holds it
    NO_IMPROVEMENT = "no_improvement"  # nothing verified beat the original by the margin
    NOT_TIMED = "not_timed"  # candidates verified, but this device cannot time them (Triton interpreter)
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True)
class RoundStarted:
    round: int
    wanted: int
    kind: str = "round_started"


@dataclass(frozen=True)
class CandidateProposed:
    candidate: Candidate
    kind: str = "candidate_proposed"


@dataclass(frozen=True)
class VerdictReady:
    candidate_id: str
    round: int
    verdict: Verdict | None  # None when the reply had no code (see message)
    message: str
    median_us: float | None = None
    # The reference's time over this one's, interleaved in one run (geometric mean of the blocks' ratios),
    # and its 95% interval.
    speedup: float | None = None
    roofline_fraction: float | None = None
    is_baseline: bool = False
    speedup_low: float | None = None
    speedup_high: float | None = None
    # The reference's median in this candidate's own run (what `speedup` compares it with).
    reference_us: float | None = None
    # Set when a budget cut the candidate off before its verdict ("not finished: ..." in `message`).
    cut_off: BudgetAxis | None = None
    kind: str = "verdict"


@dataclass(frozen=True)
class NewBest:
    candidate_id: str
    round: int
    speedup: float
    median_us: float
    roofline_fraction: float | None = None
    speedup_low: float | None = None  # the interval's lower end: it clears the loop's threshold
    speedup_high: float | None = None
    kind: str = "new_best"


@dataclass(frozen=True)
class BudgetSpent:
    axis: BudgetAxis
    message: str
    kind: str = "budget_spent"


@dataclass(frozen=True)
class Note:
    """Something worth a log line: a retry, a truncated reply, why the search has nothing to try."""

    message: str
    kind: str = "note"


@dataclass(frozen=True)
class Attempt:
    """One evaluated candidate, for the summary and the report's plot."""

    index: int  # 1-based order of evaluation
    candidate_id: str
    round: int
    passed: bool
    speedup: float | None
    median_us: float | None
    check: str | None  # the failed check; "not_finished" for a candidate a budget cut off
    is_baseline: bool = False
    reference_us: float | None = None  # the reference's median in this candidate's run


@dataclass(frozen=True)
class OptimizeResult:
    status: Status
    attempt_id: str
    path: str
    symbol: str
    message: str
    baseline_us: float | None = None
    best_candidate: Candidate | None = None
    best_speedup: float | None = None
    best_us: float | None = None
    best_roofline_fraction: float | None = None
    edits: tuple[TextEdit, ...] = ()
    new_file_text: str | None = None  # the file with `edits` applied
    original_hash: str = ""
    rounds: int = 0
    candidates: int = 0
    seconds: float = 0.0
    usage: Usage = field(default_factory=Usage)
    attempts: tuple[Attempt, ...] = ()
    device: str = ""
    # The best's figures from its own interleaved run: the reference's median there, and the interval
    # of `best_speedup` (so best_reference_us / best_us lies inside it).
    best_reference_us: float | None = None
    best_speedup_low: float | None = None
    best_speedup_high: float | None = None
    stopped_by: BudgetAxis | None = None  # the budget that ended the run, if one did
    stop_message: str = ""  # its words, e.g. "rounds budget spent (1 of 1 rounds)"
    cut_off: tuple[str, ...] = ()  # candidates a budget stopped before their verdict


@dataclass(frozen=True)
class Done:
    result: OptimizeResult
    kind: str = "done"


@dataclass(frozen=True)
class Error:
    message: str
    stage: str  # "provider", "evaluate", "edit", "setup"
    kind: str = "error"


Event = RoundStarted | CandidateProposed | VerdictReady | NewBest | BudgetSpent | Note | Done | Error


def event_json(event: Event) -> JsonValue:
    """One JSON line of `optimize --json`: the event with its `kind`. Candidate sources are left out."""
    data = to_json(event)
    if isinstance(data, dict) and isinstance(event, CandidateProposed):
        cand = data.get("candidate")
        if isinstance(cand, dict):
            cand.pop("source", None)
            cand.pop("file_text", None)
    return data
