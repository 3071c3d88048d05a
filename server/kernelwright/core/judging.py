"""What a judge and a candidate worker say to each other (docs/DESIGN.md, What runs where, and why).

A verify job runs in two processes. The *judge* loads the reference, draws every input from its seeds,
computes the reference's outputs, times the reference, and decides the verdict; it never runs candidate
code. The *candidate worker* loads the candidate and answers the judge's questions with data only:
outputs written to a file in the exchange folder, checksums of its inputs, raw timings and checksums of
the outputs of timed calls. Nothing it sends is a verdict, and the judge believes none of it without a
check of its own.

Timed calls are checked too: each TIME reply commits to checksums of every output of the block, and the
judge then picks a few calls at random and has the candidate SEND them (a sample it could not predict).

The questions travel judge -> engine -> candidate worker as `Ask` messages of the worker protocol (the
engine relays them and freezes the candidate's process between questions); these are their payloads
and replies. Nothing here imports torch.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kernelwright.core.jobs import VerifyJob
from kernelwright.core.measure import CheckName


class CandidateOp(enum.StrEnum):
    """The questions a judge may ask a candidate worker."""

    LOAD = "load"  # load the candidate (and the reference's input factories); report what it defines
    RUN = "run"  # draw inputs from a seed, poison memory, call once, write the outputs to a file
    REFILL = "refill"  # refill the last call's input buffers in place from a seed, call, write outputs
    WARM = "warm"  # untimed calls on fresh inputs (compiles, autotuning)
    TIME = "time"  # one timing block: fresh inputs per call, raw per-call times, output checksums
    SEND = "send"  # write retained outputs of the last timing block (the judge picks which, after it)


@dataclass(frozen=True)
class JudgeJob:
    """The engine's verify job as the judge worker receives it."""

    verify: VerifyJob
    exchange_dir: str  # where the candidate writes its outputs (the judge reads them, never trusts them)
    # The same folder as the judge reaches it ("": the same path): a tmpfs of the candidate's box, seen
    # through /proc/PID/root (engine.confinement.box_root)
    exchange_view: str = ""


@dataclass(frozen=True)
class CandidateLoad:
    verify: VerifyJob  # the candidate's source, the reference's path (for input factories) and options
    exchange_dir: str


@dataclass(frozen=True)
class CandidateCall:
    """RUN or REFILL: one call on the inputs of `seed`, its outputs written to `output_file`."""

    seed: int
    output_file: str  # a bare file name inside the exchange folder
    poison_nbytes: tuple[int, ...] = ()  # output sizes to NaN-fill before the call
    shapes: bool = False  # RUN: inputs from the directive's `shapes=` factory (other shapes)


@dataclass(frozen=True)
class CandidateTiming:
    """WARM or TIME: one call per seed, on fresh inputs drawn from it. TIME keeps every output until the
    next TIME, for SEND."""

    seeds: tuple[int, ...]
    # TIME: the host cover (µs of GPU spin before each call) the judge chose for both sides, so that what
    # a block costs beyond its timed calls is the same on both; 0 keeps the worker's own.
    cover_us: float = 0.0


@dataclass(frozen=True)
class CandidateSend:
    calls: tuple[int, ...]  # indices into the last TIME block's calls; their outputs go in one file, a list
    output_file: str


@dataclass(frozen=True)
class CandidateFailure:
    """What went wrong in the candidate's process, as it says. Believed only because it can only reject:
    `check` is one of FAILURE_CHECKS, else the judge calls the reply forged."""

    check: str  # a CheckName's value; kept a string so the judge, not the decoder, refuses an unknown one
    message: str
    line: int = -1  # 0-based line in the candidate's file, -1 where unknown
    tail: str = ""  # the traceback's end


# The checks a candidate worker may report failing (its own load, build, run; its live tamper check).
FAILURE_CHECKS = frozenset(
    {
        CheckName.LOAD,
        CheckName.COMPILE,
        CheckName.RUN,
        CheckName.NO_GPU,
        CheckName.MACHINE,
        CheckName.MEMORY,
        CheckName.TAMPER,
        CheckName.DTYPE,
    }
)


@dataclass(frozen=True)
class LoadReply:
    symbol: str
    uses_triton: bool = False
    tampered: tuple[str, ...] = ()  # what the candidate's own live check saw replaced (a confession)
    notes: tuple[str, ...] = ()
    failure: CandidateFailure | None = None


@dataclass(frozen=True)
class CallReply:
    output_file: str  # "" when `failure` says why there are no outputs
    inputs_before: tuple[str, ...]  # checksums of the input tensors as drawn, in order
    inputs_after: tuple[str, ...]  # and after the call
    tampered: tuple[str, ...] = ()
    failure: CandidateFailure | None = None


@dataclass(frozen=True)
class TimingReply:
    samples_us: tuple[float, ...]  # per timed call (device events on a GPU, perf_counter on the CPU)
    # Per call, exact checksums of its output's leaves: a commitment, made inside the timed block, to
    # the outputs SEND later hands over. The judge checks what it receives against it.
    checksums: tuple[tuple[str, ...], ...]
    dropped: int = 0  # CUDA calls the host was late for (not in samples_us)
    wall_s: float = 0.0  # the block on the candidate process's own clock: diagnostics, never believed
    cover_us: float = 0.0  # WARM on a GPU: the host cover its warm-up calls asked for
    tampered: tuple[str, ...] = ()
    failure: CandidateFailure | None = None
