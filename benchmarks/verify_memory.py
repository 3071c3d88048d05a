"""Verification's peak memory next to the problem's own: an identity check (the reference, copied, as its
own candidate) of every problem in samples/ (pytorch, triton, cuda, the adversarial and semantics
references), through the real pool, on this machine's device.

For each problem: the bytes the problem itself holds (its inputs, its outputs and its module's
parameters, measured by running it once in this process), and how far the judge's and the candidate
worker's resident memory (host RSS; on a GPU also the device memory the driver reports for each process)
rose above where it stood when the job began, sampled every 5 ms. The ratio is what verification needs per
byte of problem; the issue's bound is a small constant.

    python benchmarks/verify_memory.py [--device cpu|cuda] [--only NAME] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from kernelwright.analysis import analyze  # noqa: E402
from kernelwright.core.jobs import CandidateRef, Origin, ProblemRef, VerifyJob  # noqa: E402
from kernelwright.core.jsonable import to_json  # noqa: E402
from kernelwright.core.site import CudaSpec, ModuleSpec, SiteKind  # noqa: E402

FOLDERS = ("pytorch", "triton", "cuda")
RSS_FIELD = os.environ.get("KW_RSS_FIELD", "VmRSS:")  # RssAnon: or RssShmem: to split the resident set
REFERENCES = ("adversarial", "semantics")


def problems() -> list[ProblemRef]:
    files = [p for folder in FOLDERS for p in sorted((ROOT / "samples" / folder).glob("*.*"))]
    files += [p for folder in REFERENCES for p in sorted((ROOT / "samples" / folder).glob("*_reference.py"))]
    found: list[ProblemRef] = []
    for path in files:
        if path.suffix not in (".py", ".cu"):
            continue
        text = path.read_text()
        for site in analyze(text, str(path)).sites:
            if site.spec is not None:
                found.append(ProblemRef(str(path), text, site.name, site.kind, site.spec))
    return found


# Run in a fresh process per problem (a long-lived one reuses freed memory and under-reads a peak): loads
# the problem, then draws its inputs and calls it once; prints what it holds (inputs + outputs + parameters)
# and how far its memory rose meanwhile (host RSS high-water mark; on a GPU, the allocator's peak).
OWN_CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import torch
from kernelwright.core.jobs import BenchJob, ProblemRef
from kernelwright.core.jsonable import from_json
from kernelwright.harness.bench import load_problem
from kernelwright.harness.device import resolve
from kernelwright.harness.poison import nbytes_of

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

ref, device = from_json(ProblemRef, json.loads(sys.argv[2])), sys.argv[3]
target = resolve(device)
problem = load_problem(BenchJob(ref, device=device), target)
params = problem.target.parameters() if isinstance(problem.target, torch.nn.Module) else ()
param_bytes = sum(p.numel() * p.element_size() for p in params)
open("/proc/self/clear_refs", "w").write("5")  # resets VmHWM to the current RSS
before = status("VmRSS:")
if target.is_cuda:
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    dev_before = torch.cuda.memory_allocated()
args = problem.draw(1)
with torch.inference_mode():
    out = problem(args)
held = sum(nbytes_of(args)) + sum(nbytes_of(out)) + param_bytes
peak = status("VmHWM:") - before + param_bytes
if target.is_cuda:
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - dev_before + param_bytes
print(json.dumps({"held": held, "peak": peak}))
"""


def own_bytes(ref: ProblemRef, device: str) -> tuple[int | None, int | None]:
    """(what one call holds, how far memory rose for it), in a fresh process; (None, None) if it fails."""
    done = subprocess.run(
        [sys.executable, "-c", OWN_CHILD, str(ROOT / "server"), json.dumps(to_json(ref)), device],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        data = json.loads(done.stdout.strip().splitlines()[-1])
        return int(data["held"]), int(data["peak"])
    except (IndexError, ValueError, KeyError):
        return None, None


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        for c in children:
            out.append(int(c))
            todo.append(int(c))
    return out


def _rss(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(RSS_FIELD):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _is_worker(pid: int) -> str | None:
    """'judge' or 'candidate' for a harness worker process (the candidate's runs inside bwrap)."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    if b"kernelwright.harness.worker" not in cmd:
        return None
    parent = Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[1]
    try:
        above = Path(f"/proc/{parent}/cmdline").read_bytes()
    except OSError:
        above = b""
    return "candidate" if b"bwrap" in above else "judge"


def _gpu_memory() -> dict[int, int]:
    """Device memory per process, as nvidia-smi reports it (empty without one)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return {}
    done = subprocess.run(
        [smi, "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
        check=False,
    )
    out: dict[int, int] = {}
    for line in done.stdout.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
            out[int(parts[0])] = int(parts[1]) * 2**20
    return out


class Sampler:
    """Peak RSS (and GPU memory) per worker role above its level when sampling began."""

    def __init__(self, gpu: bool) -> None:
        self.gpu = gpu
        self.start: dict[int, int] = {}
        self.peak: dict[str, int] = {}
        self.gpu_start: dict[int, int] = {}
        self.gpu_peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        tick = 0
        while not self._stop.is_set():
            for pid in _descendants(me):
                role = _is_worker(pid)
                rss = _rss(pid) if role else None
                if role is None or rss is None:
                    continue
                base = self.start.setdefault(pid, rss)
                self.peak[role] = max(self.peak.get(role, 0), rss - base)
            if self.gpu and tick % 10 == 0:  # nvidia-smi is slow: every 50 ms
                for pid, used in _gpu_memory().items():
                    role = _is_worker(pid)
                    if role:
                        base = self.gpu_start.setdefault(pid, used)
                        self.gpu_peak[role] = max(self.gpu_peak.get(role, 0), used - base)
            tick += 1
            time.sleep(0.005)


TINY = """import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return x * 2


def get_inputs():
    return [torch.randn(4)]


def get_init_inputs():
    return []
"""


def identity(ref: ProblemRef, work: Path) -> CandidateRef:
    """The reference itself, copied, as its own candidate (a whole-file rewrite keeping its name)."""
    copy = work / f"identity_{Path(ref.path).name}"
    copy.write_text(ref.source)
    return CandidateRef(str(copy), ref.source, symbol=ref.symbol, origin=Origin.PERSON)


def above(peaks: dict[str, int], fixed: dict[str, int], role: str) -> int | None:
    return max(0, peaks[role] - fixed.get(role, 0)) if role in peaks else None


def mib(n: int | None) -> str:
    return "–" if n is None else f"{n / 2**20:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--only", default=None, help="only problems whose file name holds this")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    from kernelwright.engine import client
    from kernelwright.engine.pool import SyncWorkerPool

    gpu = args.device.startswith("cuda")
    rows: list[dict[str, Any]] = []
    work = Path(tempfile.mkdtemp(prefix="kw-verify-memory-"))
    todo = [p for p in problems() if args.only is None or args.only in Path(p.path).name]
    tiny_path = work / "tiny_reference.py"
    tiny_path.write_text(TINY)
    tiny = ProblemRef(str(tiny_path), TINY, "Model", SiteKind.TORCH_MODULE, ModuleSpec())
    fixed: dict[str, int] = {}
    with SyncWorkerPool(args.device, standby=True) as pool:
        # The baseline, in this run: a problem of a few bytes. Its growth is what a worker costs whatever
        # the problem (the judge's start on the first job, a fresh candidate worker's lazy imports); the
        # table's figures are above it.
        for _ in range(2):
            pool.run(pool.pool.ready())
            with Sampler(gpu) as sampler:
                pool.run(client.verify(pool.pool, VerifyJob(tiny, identity(tiny, work), device=args.device)))
        fixed = {"judge": sampler.peak.get("judge", 0), "candidate": sampler.peak.get("candidate", 0)}
        fixed_gpu = {
            "judge": sampler.gpu_peak.get("judge", 0),
            "candidate": sampler.gpu_peak.get("candidate", 0),
        }
        for ref in todo:
            name = f"{Path(ref.path).name}:{ref.symbol}"
            if isinstance(ref.spec, CudaSpec) and not gpu:
                rows.append({"problem": name, "skipped": "a CUDA kernel: needs a GPU"})
                continue
            job = VerifyJob(ref, identity(ref, work), device=args.device)
            held, own = own_bytes(ref, args.device)
            pool.run(pool.pool.ready())
            started = time.perf_counter()
            with Sampler(gpu) as sampler:
                verdict = pool.run(client.verify(pool.pool, job))
            seconds = time.perf_counter() - started
            row = {
                "problem": name,
                "passed": verdict.passed,
                "message": "" if verdict.passed else verdict.message[:160],
                "held_bytes": held,
                "own_peak_bytes": own,
                "judge_rss_bytes": above(sampler.peak, fixed, "judge"),
                "candidate_rss_bytes": above(sampler.peak, fixed, "candidate"),
                "judge_gpu_bytes": above(sampler.gpu_peak, fixed_gpu, "judge"),
                "candidate_gpu_bytes": above(sampler.gpu_peak, fixed_gpu, "candidate"),
                "seconds": round(seconds, 2),
            }
            rows.append(row)
            print(f"{name}: {'pass' if verdict.passed else 'FAIL ' + row['message']}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)

    mem = "GPU MiB" if gpu else "RSS MiB"
    print(
        f"\n| problem | identity | holds MiB | own peak +{mem} | judge +{mem} | candidate +{mem} "
        "| judge / own peak | s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "skipped" in r:
            print(f"| {r['problem']} | skipped: {r['skipped']} | | | | | | |")
            continue
        judge = r["judge_gpu_bytes"] if gpu else r["judge_rss_bytes"]
        cand = r["candidate_gpu_bytes"] if gpu else r["candidate_rss_bytes"]
        own = r["own_peak_bytes"]
        ratio = f"{judge / own:.1f}" if judge is not None and own else "–"
        verdict = "pass" if r["passed"] else f"FAIL: {r['message']}"
        print(
            f"| {r['problem']} | {verdict} | {mib(r['held_bytes'])} | {mib(own)} | {mib(judge)} "
            f"| {mib(cand)} | {ratio} | {r['seconds']} |"
        )
    passed = sum(1 for r in rows if r.get("passed"))
    judged = sum(1 for r in rows if "passed" in r)
    print(
        f"\nabove the baseline (a 16-byte problem, same run): judge +{mib(fixed.get('judge'))} MiB, "
        f"candidate worker +{mib(fixed.get('candidate'))} MiB"
    )
    print(f"{passed} of {judged} identity checks passed ({len(rows) - judged} skipped) on {args.device}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
