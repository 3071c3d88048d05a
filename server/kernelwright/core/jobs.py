"""Job requests that the engine sends to a harness worker, as frozen values that round-trip through JSON.

The worker calls `kernelwright.harness.handler.handle(job_type, payload)` with `payload = to_json(job)`;
the reply types live in `core.measure`. Nothing here imports torch.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from kernelwright.core.errors import UsageError
from kernelwright.core.measure import Calibration
from kernelwright.core.site import BenchSpec, Convention, Site, SiteKind


class JobType(enum.StrEnum):
    BENCH = "bench"
    VERIFY = "verify"
    CALIBRATE = "calibrate"
    PING = "ping"
    # A question from a verify job's judge, relayed to its candidate worker (core.judging).
    CANDIDATE = "candidate"


_DEVICE_RE = re.compile(r"^(auto|cpu|cuda|cuda:\d+)$")


def check_device(text: str) -> str:
    """`auto`, `cpu`, `cuda` or `cuda:N`; anything else is a UsageError that says what is accepted."""
    value = text.strip().lower()
    if not _DEVICE_RE.match(value):
        raise UsageError(f"unknown device `{text}`: use auto, cpu, cuda or cuda:N (for example cuda:0)")
    return value


@dataclass(frozen=True)
class BenchOptions:
    # None: repeat until the median is stable or `max_time_s` is spent; a number: exactly that many.
    repeats: int | None = None
    min_time_s: float = 0.2  # keep repeating at least this long (after warm-up)
    max_time_s: float = 5.0  # stop repeating after this long even if the median still moves
    warmup: int = 3
    compile_baseline: bool = True  # also time torch.compile of the reference (torch sites)
    # Who turned compile_baseline off, where a person did (a flag, a setting): the measurement then says
    # so in a note, not only by the missing row ("": off for the engine's own reasons, or on)
    compile_off_by: str = ""
    eager_baseline: bool = True  # also time the eager reference when a candidate is timed
    profile_lines: bool = True  # attribute time to lines of the person's file (torch.profiler)
    ncu: bool = False  # per-kernel hardware metrics through Nsight Compute, where `ncu` exists


@dataclass(frozen=True)
class ProblemRef:
    """A site as the person wrote it: the reference for verification and the subject of a bench."""

    path: str  # absolute path of the file; its directory goes on sys.path so sibling imports work
    source: str  # the text to run (the editor's buffer, which may differ from the file on disk)
    symbol: str  # Model / function / class / kernel name
    kind: SiteKind
    spec: BenchSpec

    @property
    def convention(self) -> Convention:
        return self.spec.convention


def site_problem(path: str, source: str, site: Site) -> ProblemRef | None:
    """The problem a site of `source` (the text at `path`) poses, as jobs carry it; None where the site
    has no bench spec, so nothing can run it (each caller says how to add one in its own terms)."""
    if site.spec is None:
        return None
    return ProblemRef(path=path, source=source, symbol=site.name, kind=site.kind, spec=site.spec)


class Origin(enum.StrEnum):
    """Who wrote a candidate, which decides whether it may run outside the box (engine.confinement)."""

    MODEL = "model"  # a model's output, or a file whose author kernelwright does not know: box only
    BUILTIN = "builtin"  # the builtin search's own rewrites of the person's code
    PERSON = "person"  # the person's own code (a re-check of their edit against what last ran well)


@dataclass(frozen=True)
class CandidateRef:
    """A proposed replacement. `symbol` defaults by convention: ModelNew, the same function or kernel name."""

    path: str  # where it would live (often the reference's path); used for sys.path and line numbers
    source: str
    symbol: str | None = None
    # A .cu candidate may change its launch shape through its own directive; else the reference's spec.
    spec: BenchSpec | None = None
    origin: Origin = Origin.MODEL


def candidate_symbol(reference: ProblemRef, candidate: CandidateRef) -> str:
    """The name a candidate must define, by the reference's convention."""
    if candidate.symbol:
        return candidate.symbol
    if reference.spec.convention is Convention.MODULE:
        return reference.spec.candidate
    return reference.symbol


@dataclass(frozen=True)
class BenchJob:
    problem: ProblemRef
    device: str = "auto"  # auto | cpu | cuda | cuda:N (check_device)
    options: BenchOptions = field(default_factory=BenchOptions)
    calibration: Calibration | None = None  # the stored one for this device, if any: overrides the table


@dataclass(frozen=True)
class VerifyJob:
    reference: ProblemRef
    candidate: CandidateRef
    device: str = "auto"
    trials: int = 3  # independent input draws (fresh values and allocations each)
    time_candidate: bool = False  # also time the candidate (and the reference) once it passes
    options: BenchOptions = field(default_factory=BenchOptions)
    calibration: Calibration | None = None


@dataclass(frozen=True)
class CalibrateJob:
    device: str = "auto"
