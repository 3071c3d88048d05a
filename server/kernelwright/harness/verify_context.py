"""What a verification carries while it runs: its target, flags and notes, stage times, and the
exception that ends it with a named check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kernelwright.core.measure import CheckName, Flag
from kernelwright.harness.device import Target
from kernelwright.harness.timing import PhaseClock


class Rejected(Exception):
    def __init__(self, check: CheckName, message: str, **kw: Any) -> None:
        super().__init__(message)
        self.check = check
        self.kw = kw


@dataclass
class Context:
    target: Target
    flags: list[Flag] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    phases: PhaseClock = field(default_factory=PhaseClock)

    def flag(self, f: Flag) -> None:
        if f not in self.flags:
            self.flags.append(f)

    @property
    def checks_norm(self) -> bool:
        """Whether comparisons with the reference check the relative error norm: not where the reference's
        output is rounding noise (Flag.NOISE_LEVEL), whose norm is checked against float64 instead."""
        return Flag.NOISE_LEVEL not in self.flags
