"""What a provider is asked: the site and its file, the convention to keep, the device, and the feedback
of earlier rounds. And what it answers: candidates plus the tokens and money that cost."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from kernelwright.core.candidate import Candidate, Usage
from kernelwright.core.measure import DeviceKind
from kernelwright.core.site import Convention, Language, Site


@dataclass(frozen=True)
class DeviceFacts:
    """What a candidate is tuned for. Peaks may be unknown (None) on a CPU or an unlisted GPU."""

    name: str
    kind: DeviceKind = DeviceKind.CPU
    sm_count: int | None = None
    memory_bytes: int | None = None
    bandwidth_bytes_per_s: float | None = None
    peak_flops: tuple[tuple[str, float], ...] = ()  # (dtype, FLOP/s), e.g. ("bf16", 9.9e14)

    @property
    def is_gpu(self) -> bool:
        return self.kind is DeviceKind.CUDA


class Outcome(enum.StrEnum):
    """How a candidate fared, in the words the next round's prompt uses."""

    PASSED = "passed"
    LOAD_FAILED = "load_failed"  # did not compile / import / define the symbol
    CHECK_FAILED = "check_failed"  # ran, but a verification check rejected it
    NO_CODE = "no_code"  # the reply had no usable code
    CRASHED = "crashed"  # the worker died, hung or timed out on it
    NOT_FINISHED = "not_finished"  # the run's safety time limit cut its evaluation off


@dataclass(frozen=True)
class CandidateFeedback:
    candidate_id: str
    round: int
    outcome: Outcome
    message: str  # the harness's words: the compile error, the failed check and by how much, ...
    check: str | None = None
    median_us: float | None = None
    speedup: float | None = None  # baseline median / this median
    roofline_fraction: float | None = None
    rationale: str = ""


@dataclass(frozen=True)
class ProposalRequest:
    site: Site
    path: str
    site_source: str  # the text of the site's range
    file_text: str  # the whole file: the reference a candidate is checked against
    convention: Convention
    expected_symbol: str  # what a candidate must define: ModelNew, the function's name, the kernel's name
    device: DeviceFacts
    round: int  # 1-based
    count: int  # how many candidates are wanted this round
    history: tuple[CandidateFeedback, ...] = ()
    baseline_us: float | None = None
    best_us: float | None = None
    best_roofline_fraction: float | None = None
    best_source: str | None = None  # the best verified candidate so far, for the next round to improve on

    @property
    def language(self) -> Language:
        return self.site.language


@dataclass(frozen=True)
class Proposal:
    candidates: tuple[Candidate, ...]
    usage: Usage = field(default_factory=Usage)
    # Replies that had no usable code, each with the reason: the loop reports them as verdicts.
    rejected: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # retries, truncations: shown in the log, not in the prompt
