"""Nsight Compute metrics per kernel: re-run the problem in a child process under
`ncu --clock-control none` and parse its CSV. Where ncu is absent, say so instead."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

from kernelwright.core.jobs import BenchJob, BenchOptions
from kernelwright.core.jsonable import to_json
from kernelwright.core.measure import KernelMetrics
from kernelwright.harness.device import ncu_path

METRICS = (
    "sm__throughput.avg.pct_of_peak_sustained_elapsed",
    "gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed",
    "dram__throughput.avg.pct_of_peak_sustained_elapsed",
    "sm__warps_active.avg.pct_of_peak_sustained_active",
    "gpu__time_duration.sum",
)
STALL_PREFIX = "smsp__average_warp_latency_issue_stalled_"
STALLS = tuple(
    f"{STALL_PREFIX}{s}.ratio"
    for s in ("long_scoreboard", "short_scoreboard", "barrier", "math_pipe_throttle", "mio_throttle", "wait")
)


def collect(job: BenchJob, timeout_s: float = 300.0) -> tuple[tuple[KernelMetrics, ...], str | None]:
    """(metrics per kernel, note). The note says why there are none, when there are none."""
    ncu = ncu_path()
    if ncu is None:
        return (), "ncu not available: install Nsight Compute (ncu on PATH) for per-kernel hardware metrics"
    child_job = BenchJob(
        problem=job.problem,
        device=job.device,
        options=BenchOptions(repeats=1, warmup=0, compile_baseline=False, profile_lines=False, ncu=False),
    )
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(to_json(child_job), f)
        job_file = f.name
    try:
        proc = subprocess.run(
            [
                ncu,
                "--clock-control",
                "none",
                "--csv",
                "--metrics",
                ",".join(METRICS + STALLS),
                sys.executable,
                "-m",
                "kernelwright.harness.ncu_child",
                job_file,
            ],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return (), f"ncu did not finish within {timeout_s:.0f} s"
    finally:
        os.unlink(job_file)
    if proc.returncode != 0:
        return (), f"ncu failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}"
    return parse_csv(proc.stdout), None


def parse_csv(text: str) -> tuple[KernelMetrics, ...]:
    start = text.find('"ID"')
    if start < 0:
        return ()
    rows = csv.DictReader(io.StringIO(text[start:]))
    per_kernel: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        name, metric, value = (
            row.get("Kernel Name", ""),
            row.get("Metric Name", ""),
            row.get("Metric Value", ""),
        )
        try:
            number = float(value.replace(",", ""))
        except ValueError:
            continue
        per_kernel[name][metric] = number  # the last launch of a kernel wins: they are the same work
    out: list[KernelMetrics] = []
    for name, metrics in per_kernel.items():
        stalls = sorted(
            (
                (k[len(STALL_PREFIX) :].removesuffix(".ratio"), v)
                for k, v in metrics.items()
                if k.startswith(STALL_PREFIX)
            ),
            key=lambda kv: -kv[1],
        )
        plain = {k: v for k, v in metrics.items() if not k.startswith(STALL_PREFIX)}
        out.append(KernelMetrics(kernel=name, metrics=plain, stalls=tuple(s for s, _ in stalls[:3])))
    return tuple(out)
