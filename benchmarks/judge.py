"""Judge benchmark: what a candidate can forge, and what judging it costs.

1. Cheats: every candidate of samples/adversarial (its catalogue, cases.toml) verified through the pool on
   this machine's device; per class of attack, rejected or not and by which check.
2. Cost: one honest candidate verified and timed, per candidate, before (the shared-process harness of
   the commit given with --before, run from a git worktree of it) and after (this tree), alternating
   before/after in one run on one machine, each in its own warm pool.
3. On a GPU: what moving outputs between the two processes costs (the candidate writes them to the
   exchange folder, the judge reads them back onto the device), per candidate evaluation.

    python benchmarks/judge.py [--device cpu|cuda] [--before 07db1fc | --before-tree DIR] [--rounds 3]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "tests"))

from kernelwright.core.jsonable import from_json, to_json  # noqa: E402
from kernelwright.core.measure import Verdict  # noqa: E402
from support.adversarial import load_cases  # noqa: E402

HONEST = ("honest_softmax.py", "honest_matmul.py", "honest_gelu.py")

# Run in a child process whose sys.path starts with a tree's server/ (this one's or the --before
# worktree's): verifies and times one candidate `n` times in one warm pool, prints seconds per candidate.
COST_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1] + "/server")
from kernelwright.core.jsonable import from_json
from kernelwright.core.jobs import VerifyJob
from kernelwright.engine.pool import SyncWorkerPool
from kernelwright.engine import client
job = from_json(VerifyJob, json.loads(sys.argv[2]))
n = int(sys.argv[3])
with SyncWorkerPool(job.device, standby=True) as pool:
    pool.run(client.verify(pool.pool, job))  # the first pays the workers' start
    seconds, passed = [], []
    for _ in range(n):
        pool.run(pool.pool.ready())
        t = time.perf_counter()
        v = pool.run(client.verify(pool.pool, job))
        seconds.append(time.perf_counter() - t)
        passed.append(v.passed)
print(json.dumps({"seconds": seconds, "passed": passed, "message": v.message}))
"""


def cheats(device: str) -> list[dict[str, Any]]:
    from kernelwright.engine.pool import SyncWorkerPool

    kind = "gpu" if device.startswith("cuda") else "cpu"
    rows = []
    cases = load_cases()
    with SyncWorkerPool(device, standby=True) as pool:
        for name, case in cases.items():
            t = time.perf_counter()
            raw = pool.submit("verify", to_json(case.job(device)))
            v = from_json(Verdict, raw)
            expected = case.expected[kind]
            got = v.check.value if v.check else ""
            ok = (v.passed and not expected and (kind == "cpu" or case.within_speedup(v))) or (
                not v.passed and bool(expected) and re.fullmatch(expected, got)
            )
            rows.append(
                {
                    "candidate": name,
                    "class": case.attack,
                    "timed": case.timed,
                    "expected": expected or "pass",
                    "verdict": (f"passed ({v.speedup.ratio:.2f}x)" if v.speedup else "passed")
                    if v.passed
                    else f"rejected ({got})",
                    "as_expected": bool(ok),
                    "known_gap": case.gaps.get(kind, ""),
                    "seconds": round(time.perf_counter() - t, 2),
                    "message": v.message[:160],
                }
            )
            print(f"  {name:<36} {rows[-1]['verdict']:<26} {'ok' if ok else 'UNEXPECTED'}", flush=True)
    return rows


def _worktree(rev: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix="kw-before-")) / "tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), rev],
        check=True,
        capture_output=True,
    )
    return path


def cost(
    device: str,
    before: str | None,
    before_tree: str | None,
    rounds: int,
    per_round: int,
    candidates: tuple[str, ...] = HONEST,
) -> list[dict[str, Any]]:
    cases = load_cases()
    trees: list[tuple[str, Path]] = [("after", ROOT)]
    worktree = None
    if before:
        worktree = _worktree(before)
        trees.insert(0, (f"before ({before})", worktree))
    elif before_tree:
        trees.insert(0, (f"before ({Path(before_tree).name})", Path(before_tree).resolve()))
    rows: list[dict[str, Any]] = []
    # Other entries of PYTHONPATH (carried wheels on a device machine) stay, after the tree's server/.
    extra_path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and "server" not in p]
    try:
        for name in candidates:
            job = cases[name].job(device)
            job = type(job)(**{**job.__dict__, "time_candidate": True})
            payload = json.dumps(to_json(job))
            seconds: dict[str, list[float]] = {label: [] for label, _ in trees}
            for _ in range(rounds):
                for label, tree in trees:  # before, after, before, after, ...
                    # The workers the child starts must import the same tree as the child.
                    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree / "server"), *extra_path])}
                    out = subprocess.run(
                        [sys.executable, "-c", COST_CHILD, str(tree), payload, str(per_round)],
                        capture_output=True,
                        text=True,
                        check=False,
                        cwd=str(tree),
                        timeout=900,
                        env=env,
                    )
                    if out.returncode != 0:
                        raise SystemExit(f"{label} failed on {name}:\n{out.stderr[-3000:]}")
                    reply = json.loads(out.stdout.strip().splitlines()[-1])
                    if not all(reply["passed"]):
                        raise SystemExit(f"{label}: {name} did not pass: {reply['message']}")
                    seconds[label] += reply["seconds"]
            for label, values in seconds.items():
                rows.append(
                    {
                        "candidate": name,
                        "tree": label,
                        "median_s": round(statistics.median(values), 3),
                        "min_s": round(min(values), 3),
                        "max_s": round(max(values), 3),
                        "n": len(values),
                    }
                )
                print(f"  {name:<22} {label:<22} {rows[-1]['median_s']:7.2f} s (n={len(values)})", flush=True)
    finally:
        if worktree is not None:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
                check=False,
                capture_output=True,
            )
    return rows


def transfer(device: str) -> list[dict[str, Any]]:
    """Write + read back one output per honest sample, as the exchange does, against its evaluation."""
    import torch
    from kernelwright.harness.exchange import read_outputs, write_outputs

    rows = []
    dev = torch.device(device)
    sizes = {"1 MiB": 1 << 18, "64 MiB": 1 << 24, "256 MiB": 1 << 26}
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    for label, n in sizes.items():
        out = torch.randn(n, device=dev)
        path = base / "kw-bench-transfer.out"
        times = []
        for _ in range(5):
            if dev.type == "cuda":
                torch.cuda.synchronize()
            t = time.perf_counter()
            write_outputs(str(path), out)
            back, _ = read_outputs(str(path), dev, 4 * n * 4)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t)
            assert torch.equal(back, out)
        path.unlink(missing_ok=True)
        rows.append({"output": label, "median_ms": round(statistics.median(times) * 1e3, 2)})
        print(f"  one output of {label}: {rows[-1]['median_ms']} ms (write, read back)", flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cpu")
    p.add_argument("--before", default=None, help="a commit with the shared-process harness, for the cost")
    p.add_argument(
        "--before-tree", default=None, help="or a folder holding that commit's server/ (no git needed)"
    )
    p.add_argument("--rounds", type=int, default=3, help="before/after alternations for the cost")
    p.add_argument("--per-round", type=int, default=2, help="candidates per pool in each alternation")
    p.add_argument("--candidates", default=",".join(HONEST), help="honest candidates for the cost")
    p.add_argument("--skip", default="", help="comma list of parts to skip: cheats, cost, transfer")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    report: dict[str, Any] = {"device": args.device}
    if "cheats" not in skip:
        print("cheats:", flush=True)
        report["cheats"] = cheats(args.device)
    if "cost" not in skip:
        print("cost per candidate (verify + time):", flush=True)
        names = tuple(filter(None, args.candidates.split(",")))
        report["cost"] = cost(args.device, args.before, args.before_tree, args.rounds, args.per_round, names)
    if "transfer" not in skip and args.device.startswith("cuda"):
        print("transfer:", flush=True)
        report["transfer"] = transfer(args.device)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    bad = [r for r in report.get("cheats", []) if not r["as_expected"] and not r["known_gap"]]
    if bad:
        raise SystemExit(f"{len(bad)} candidates judged otherwise than the catalogue says")


if __name__ == "__main__":
    main()
