"""Scaling: candidates verified and timed per minute on 1, 2 and all GPUs, through the Ray backend.

The workload is the builtin search's kind of work on the Triton samples: launch-configuration variants
(BLOCK sizes, num_warps, num_stages at the launch site) of samples/triton/{vector_add, matmul_small_tiles,
row_softmax, layernorm_heuristics}, plus each sample's original as a candidate, every one verified and
timed against its sample in a fresh worker (VerifyJob with time_candidate, the optimize loop's options).
The candidates are generated here, not by the builtin search (whose choices depend on what it measured),
so the set is the same for every GPU count. Each configuration starts its own pool (its start-up is not
timed; every device answers a ping first), then the candidates go to its devices one job per device at
a time: one consumer per device takes the next candidate from a shared queue, so a device slowed by a
long compile does not hold back the others. Per-worker compile caches (the default) keep a later run
from reusing an earlier run's Triton builds.

Target: on N GPUs, at least 0.8 x N times the one-GPU throughput.

    python benchmarks/scaling.py [--cluster ray|local] [--gpus 1,2,all] [--json scaling.json]
    python benchmarks/scaling.py --cpu-smoke   # 1 and 2 CPU actors, vector_add only: checks the script

Needs a multi-GPU machine (or Ray cluster) with torch and triton; on fewer GPUs it says which counts it
could not run. CPU smoke numbers check the plumbing and are not published.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

from kernelwright.cli.common import load_problem
from kernelwright.core.errors import KernelwrightError
from kernelwright.core.jobs import BenchOptions, CandidateRef, ProblemRef, VerifyJob
from kernelwright.engine import client
from kernelwright.engine.backends import EnginePool, make_pool
from kernelwright.engine.devices import visible_gpus
from kernelwright.engine.pool import WorkerPool
from kernelwright.engine.ray_backend import RaySettings, import_ray, ray_installed

ROOT = Path(__file__).resolve().parents[1]
TRITON = ROOT / "samples" / "triton"
TARGET_EFFICIENCY = 0.8

# Launch keywords to vary per sample; each dict is one candidate. Keys must appear as `KEY=<int>` in the
# launcher (below the bench directive).
SEARCH: dict[str, list[dict[str, int]]] = {
    "vector_add": [{"BLOCK": b, "num_warps": w} for b, w in itertools.product((256, 1024, 4096), (2, 4, 8))],
    "matmul_small_tiles": [
        {"BLOCK_M": m, "BLOCK_N": n, "BLOCK_K": k, "num_warps": w, "num_stages": 3}
        for (m, n), k, w in itertools.product(((64, 64), (128, 64), (128, 128)), (32, 64), (4, 8))
    ],
    "row_softmax": [{"num_warps": w} for w in (1, 2, 8, 16)],
    "layernorm_heuristics": [{"num_warps": w} for w in (1, 2, 8, 16)],
}


@dataclass(frozen=True)
class Candidate:
    sample: str
    label: str  # the launch settings it changes, or "original"
    job: VerifyJob


@dataclass(frozen=True)
class RunResult:
    gpus: int
    candidates: int
    passed: int
    rejected: int
    errors: int  # jobs that raised (worker did not start, ...): a broken run, not a rejection
    wall_s: float
    per_minute: float
    median_job_s: float


def variant(source: str, settings: dict[str, int], sample: str) -> str:
    """The sample with its launch keywords set; only text below the bench directive is touched."""
    cut = source.index("# kernelwright: bench")
    head, launcher = source[:cut], source[cut:]
    for key, value in settings.items():
        launcher, count = re.subn(rf"\b{key}=\d+\b", f"{key}={value}", launcher)
        if count == 0:
            raise SystemExit(f"samples/triton/{sample}.py has no `{key}=<int>` in its launcher any more")
    return head + launcher


def candidates(samples: list[str], device: str) -> list[Candidate]:
    options = BenchOptions(compile_baseline=False, profile_lines=False)
    out: list[Candidate] = []
    for sample in samples:
        reference: ProblemRef = load_problem(str(TRITON / f"{sample}.py"))
        variants = [("original", reference.source)] + [
            (" ".join(f"{k}={v}" for k, v in s.items()), variant(reference.source, s, sample))
            for s in SEARCH[sample]
        ]
        for label, source in variants:
            job = VerifyJob(
                reference=reference,
                candidate=CandidateRef(reference.path, source),
                device=device,
                trials=3,
                time_candidate=True,
                options=options,
            )
            out.append(Candidate(sample, label, job))
    return out


def pool_for(cluster: str, count: int, cpu: bool) -> EnginePool:
    if cluster == "ray":
        settings = RaySettings(workers=count, cpu_workers=count)
        return make_pool("ray", "cpu" if cpu else "cuda", ray_settings=settings)
    return make_pool("local", "cpu" if cpu else [f"cuda:{i}" for i in range(count)])


async def run_once(cluster: str, count: int, cpu: bool, work: list[Candidate]) -> RunResult:
    pool = pool_for(cluster, count, cpu)
    async with pool:
        # Start-up is not throughput: every device has a worker up (and a standby warming) first.
        await asyncio.gather(*(pool.submit("ping", {}, fresh=False, device=d) for d in pool.devices))
        durations: list[float] = []

        async def one(candidate: Candidate) -> str:
            start = time.monotonic()
            try:
                # engine.client is typed with WorkerPool; both pools have its API (backends.EnginePool).
                verdict = await client.verify(cast(WorkerPool, pool), candidate.job)
            except KernelwrightError as exc:
                print(f"  error  {candidate.sample} {candidate.label}: {exc}", file=sys.stderr)
                return "error"
            finally:
                durations.append(time.monotonic() - start)
            return "passed" if verdict.passed else "rejected"

        # One consumer per device pulling from one queue: a device that finishes early takes the next
        # candidate (the pool sends a job to its least busy device, which is then the idle one).
        queue = list(work)
        outcomes: list[str] = []

        async def consumer() -> None:
            while queue:
                outcomes.append(await one(queue.pop(0)))

        start = time.monotonic()
        await asyncio.gather(*(consumer() for _ in pool.devices))
        wall = time.monotonic() - start
    return RunResult(
        gpus=count,
        candidates=len(work),
        passed=outcomes.count("passed"),
        rejected=outcomes.count("rejected"),
        errors=outcomes.count("error"),
        wall_s=round(wall, 2),
        per_minute=round(len(work) / wall * 60, 2),
        median_job_s=round(statistics.median(durations), 2),
    )


def available(cluster: str, cpu: bool) -> int:
    if cluster == "local":
        return 1 if cpu else len(visible_gpus())  # the local pool has one CPU worker
    ray = import_ray()
    if not ray.is_initialized():
        # Here, in the main thread, once for every run (the pools then connect to it, not start their own).
        ray.init(include_dashboard=False, log_to_driver=False)
    if cpu:
        return 2  # the smoke test's size
    return int(ray.cluster_resources().get("GPU", 0))


def wanted_counts(text: str, have: int) -> list[int]:
    counts: list[int] = []
    for part in text.split(","):
        part = part.strip()
        n = have if part == "all" else int(part)
        if n not in counts:
            counts.append(n)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cluster", choices=("ray", "local"), default="ray" if ray_installed() else "local")
    parser.add_argument(
        "--gpus", default="1,2,all", help="GPU counts to run, comma-separated (default 1,2,all)"
    )
    parser.add_argument("--samples", default=",".join(SEARCH), help="samples/triton names to search")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--cpu-smoke", action="store_true", help="1 and 2 CPU workers, vector_add only")
    args = parser.parse_args()

    cpu = args.cpu_smoke
    samples = ["vector_add"] if cpu else [s.strip() for s in args.samples.split(",")]
    unknown = sorted(set(samples) - set(SEARCH))
    if unknown:
        parser.error(f"unknown samples {unknown}; choose from {sorted(SEARCH)}")
    have = available(args.cluster, cpu)
    counts = wanted_counts("1,2" if cpu else args.gpus, have)
    work = candidates(samples, "cpu" if cpu else "cuda")
    unit = "CPU worker" if cpu else "GPU"
    print(
        f"scaling: {len(work)} candidates from {', '.join(samples)}; cluster={args.cluster}; {have} {unit}s"
    )
    if cpu:
        print(
            "CPU smoke run: checks the plumbing; these numbers are not GPU throughput and are not published"
        )

    results: list[RunResult] = []
    skipped: list[str] = []
    for n in counts:
        if n < 1 or n > have:
            skipped.append(f"{n} {unit}s: not run, this {args.cluster} setup has {have}")
            continue
        print(f"running on {n} {unit}(s) ...", flush=True)
        results.append(asyncio.run(run_once(args.cluster, n, cpu, work)))

    base = next((r for r in results if r.gpus == 1), None)
    print()
    print(
        f"| {unit}s | candidates | passed | rejected | errors | wall s | per minute | vs 1 | target | met |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows: list[dict[str, Any]] = []
    for r in results:
        scale = r.per_minute / base.per_minute if base else float("nan")
        target = TARGET_EFFICIENCY * r.gpus
        met = "yes" if base and scale >= target - 1e-9 else ("-" if not base else "NO")
        print(
            f"| {r.gpus} | {r.candidates} | {r.passed} | {r.rejected} | {r.errors} | {r.wall_s} | "
            f"{r.per_minute} | {scale:.2f}x | >= {target:.1f}x | {met} |"
        )
        rows.append({**asdict(r), "scale_vs_1": round(scale, 3), "target": target, "met": met == "yes"})
    for line in skipped:
        print(f"- {line}")
    print(f"Target: on N {unit}s at least {TARGET_EFFICIENCY} x N times the one-{unit} throughput.")
    if args.json:
        doc = {"cluster": args.cluster, "cpu_smoke": cpu, "available": have, "runs": rows, "skipped": skipped}
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
    return 0 if all(row["met"] for row in rows if row["gpus"] > 1) and not skipped else 1


if __name__ == "__main__":
    sys.exit(main())
