"""samples/adversarial/cases.toml as jobs: each candidate with its reference, and what must judge it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from kernelwright.core.jobs import BenchOptions, CandidateRef, ProblemRef, VerifyJob
from kernelwright.core.site import FunctionSpec, ModuleSpec, SiteKind

ADVERSARIAL = Path(__file__).resolve().parents[2] / "samples" / "adversarial"
TIMED = BenchOptions(compile_baseline=False, profile_lines=False)


@dataclass(frozen=True)
class Case:
    name: str
    reference: ProblemRef
    timed: bool
    expected: dict[str, str]  # device kind ("cpu", "gpu") -> regex of check names, "" for a pass
    flag: str | None
    attack: str
    gaps: dict[str, str]  # device kind -> why that device's judge does not catch it yet

    def job(self, device: str = "auto") -> VerifyJob:
        path = ADVERSARIAL / self.name
        return VerifyJob(
            self.reference,
            CandidateRef(str(path), path.read_text()),
            device=device,
            time_candidate=self.timed,
            options=TIMED,
        )


def _reference(entry: dict[str, str]) -> ProblemRef:
    path = ADVERSARIAL / entry["file"]
    if entry["convention"] == "module":
        return ProblemRef(str(path), path.read_text(), entry["symbol"], SiteKind.TORCH_MODULE, ModuleSpec())
    spec = FunctionSpec(entry["inputs"], cpu_inputs=entry.get("cpu_inputs"))
    return ProblemRef(str(path), path.read_text(), entry["symbol"], SiteKind.TORCH_FUNCTION, spec)


def load_cases() -> dict[str, Case]:
    data = tomllib.loads((ADVERSARIAL / "cases.toml").read_text())
    refs = {name: _reference(entry) for name, entry in data["references"].items()}
    return {
        name: Case(
            name,
            refs[entry["reference"]],
            bool(entry.get("timed", False)),
            {"cpu": entry["cpu"], "gpu": entry["gpu"]},
            entry.get("flag"),
            entry["class"],
            {"gpu": entry["gpu_gap"]} if "gpu_gap" in entry else {},
        )
        for name, entry in data["candidates"].items()
    }
