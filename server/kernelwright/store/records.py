"""Rows of the store that are not harness results: optimize attempts and applied edits."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from kernelwright.core.candidate import Usage
from kernelwright.core.measure import Measurement


class AttemptStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True)
class AttemptRecord:
    """One optimize run of one site."""

    id: str
    path: str
    symbol: str
    source_hash: str  # content_key of the file the run started from
    provider: str
    model: str
    started_at: float
    status: AttemptStatus = AttemptStatus.RUNNING
    finished_at: float | None = None
    best_candidate: str | None = None
    best_speedup: float | None = None
    baseline_us: float | None = None
    best_us: float | None = None
    rounds: int = 0
    candidates: int = 0
    usage: Usage = field(default_factory=Usage)
    message: str = ""
    device: str = ""  # where the candidates were timed ("NVIDIA H200", "CPU ...")
    best_rationale: str = ""  # what the winning candidate does, in its provider's words


@dataclass(frozen=True)
class StoredMeasurement:
    id: int
    path: str
    symbol: str
    measurement: Measurement


@dataclass(frozen=True)
class AppliedEdit:
    """A file `optimize --apply` rewrote: its text before, so `undo` can put it back.

    Recorded before the file is written; `landed_at` is set once the rename put the new text in place,
    so an edit whose run was killed in between has none (until an apply or undo settles it from the
    file's text), and `dropped_at` marks one found never to have landed."""

    id: int
    path: str
    attempt_id: str | None
    original_text: str
    original_hash: str
    new_hash: str
    applied_at: float
    undone_at: float | None = None
    landed_at: float | None = None
    dropped_at: float | None = None
