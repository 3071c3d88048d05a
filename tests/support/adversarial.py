"""A catalogue of candidates (samples/adversarial/cases.toml, samples/semantics/cases.toml) as jobs: each
candidate with its reference, and what must judge it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from kernelwright.analysis.pipeline import analyze
from kernelwright.core.jobs import BenchOptions, CandidateRef, ProblemRef, VerifyJob
from kernelwright.core.measure import Verdict
from kernelwright.core.site import FunctionSpec, ModuleSpec, SiteKind

ADVERSARIAL = Path(__file__).resolve().parents[2] / "samples" / "adversarial"
SEMANTICS = Path(__file__).resolve().parents[2] / "samples" / "semantics"
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
    folder: Path = ADVERSARIAL
    # A cheat on the timing that passes (its values are right) must not read faster than this on a GPU.
    gpu_speedup_at_most: float | None = None

    def within_speedup(self, v: Verdict) -> bool:
        """Whether a passing verdict's speedup keeps to the catalogue's bound (True where it has none)."""
        return self.gpu_speedup_at_most is None or (
            v.speedup is not None and v.speedup.ratio <= self.gpu_speedup_at_most
        )

    def job(self, device: str = "auto") -> VerifyJob:
        path = self.folder / self.name
        return VerifyJob(
            self.reference,
            CandidateRef(str(path), path.read_text()),
            device=device,
            time_candidate=self.timed,
            options=TIMED,
        )


def _reference(entry: dict[str, str], folder: Path) -> ProblemRef:
    path = folder / entry["file"]
    if entry["convention"] == "module":
        # As `kernelwright verify` reads the file: the factories it defines name the spec's parts.
        source = path.read_text()
        site = analyze(source, str(path)).site(entry["symbol"])
        spec = site.spec if site is not None and isinstance(site.spec, ModuleSpec) else ModuleSpec()
        return ProblemRef(str(path), source, entry["symbol"], SiteKind.TORCH_MODULE, spec)
    spec = FunctionSpec(entry["inputs"], cpu_inputs=entry.get("cpu_inputs"), shapes=entry.get("shapes"))
    return ProblemRef(str(path), path.read_text(), entry["symbol"], SiteKind.TORCH_FUNCTION, spec)


def load_cases(folder: Path = ADVERSARIAL) -> dict[str, Case]:
    data = tomllib.loads((folder / "cases.toml").read_text())
    refs = {name: _reference(entry, folder) for name, entry in data["references"].items()}
    return {
        name: Case(
            name,
            refs[entry["reference"]],
            bool(entry.get("timed", False)),
            {"cpu": entry["cpu"], "gpu": entry["gpu"]},
            entry.get("flag"),
            entry["class"],
            {"gpu": entry["gpu_gap"]} if "gpu_gap" in entry else {},
            folder,
            entry.get("gpu_speedup_at_most"),
        )
        for name, entry in data["candidates"].items()
    }
