"""Confinement benchmark: what the box (engine.confinement) costs a candidate worker.

1. The wrapper alone: `python -c pass` started plainly and inside the box, alternating, N times each.
2. A candidate worker's start (spawn to hello: python, torch, triton, the device context), boxed and
   unboxed, alternating rounds in fresh processes (the box is switched off by pointing
   KERNELWRIGHT_BWRAP at nothing, which is what a machine without bubblewrap sees).
3. One honest candidate (samples/adversarial/honest_softmax.py) verified and timed through a warm pool,
   boxed and unboxed, alternating rounds: seconds per evaluation, and the speedup the judge measured in
   each (the same in both if the box changes nothing in what is timed).

    python benchmarks/confinement.py [--device cpu|cuda] [--rounds 3] [--per-round 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from kernelwright.engine import confinement  # noqa: E402

OFF = "/nonexistent/bwrap"  # KERNELWRIGHT_BWRAP pointing here: no box, as without bubblewrap

START_CHILD = r"""
import asyncio, json, sys, time
from kernelwright.engine import confinement
from kernelwright.engine.config import WorkerConfig
from kernelwright.engine.devices import resolve_devices
from kernelwright.engine.process import KillReason, Role, WorkerProcess
async def main():
    device = resolve_devices(sys.argv[1])[0]
    config = WorkerConfig()
    # What a pool pays once per process: the probes (the box, the exchange tmpfs seen from outside), the
    # interpreter's folders, the card's device nodes.
    t = time.perf_counter()
    if confinement.support().available:
        confinement.box_tmpfs_visible()
        confinement.interpreter_folders(config.python, "")
        if not device.is_cpu:
            confinement.gpu_nodes(device.physical, device.index)
    once = time.perf_counter() - t
    starts = []
    for _ in range(int(sys.argv[2])):
        w = await WorkerProcess.start(device, config, Role.CANDIDATE)
        starts.append({"seconds": w.start_seconds, "confined": w.confined})
        await w.kill(KillReason.CLOSED)
    print(json.dumps({"once": once, "starts": starts}))
asyncio.run(main())
"""

EVAL_CHILD = r"""
import json, sys, time
from kernelwright.engine import client
from kernelwright.engine.config import WorkerConfig
from kernelwright.engine.pool import SyncWorkerPool
from support.adversarial import load_cases
job = load_cases()["honest_softmax.py"].job(sys.argv[2])  # timed, against softmax_reference.py
config = WorkerConfig(allow_unconfined=True)
with SyncWorkerPool(sys.argv[2], standby=True, config=config) as pool:
    pool.run(client.verify(pool.pool, job))  # the first pays the workers' start
    rows = []
    for _ in range(int(sys.argv[3])):
        pool.run(pool.pool.ready())
        t = time.perf_counter()
        v = pool.run(client.verify(pool.pool, job))
        outcome = pool.pool.recent_outcomes[-1]
        rows.append({"seconds": time.perf_counter() - t, "passed": v.passed, "confined": outcome.confined,
                     "speedup": v.speedup.ratio if v.speedup else None, "message": v.message})
print(json.dumps(rows))
"""


def _env(boxed: bool) -> dict[str, str]:
    paths = [str(ROOT / "server"), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    if not boxed:
        env[confinement.BWRAP_ENV] = OFF
    elif env.get(confinement.BWRAP_ENV) == OFF:
        del env[confinement.BWRAP_ENV]
    return env


def _child(code: str, args: list[str], boxed: bool) -> Any:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=_env(boxed), timeout=1800
    )
    if done.returncode != 0:
        raise SystemExit(f"child failed ({'boxed' if boxed else 'unboxed'}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def wrapper(n: int) -> dict[str, float]:
    binary = confinement.bwrap_path()
    assert binary is not None
    scratch = Path(tempfile.mkdtemp(prefix="kw-bench-box-"))
    plan = confinement.BoxPlan(
        readable=confinement.interpreter_folders(sys.executable), writable=(), scratch=scratch, chdir=scratch
    )
    plain = [sys.executable, "-S", "-c", "pass"]
    boxed = confinement.box_argv(plan, plain, binary)
    times: dict[str, list[float]] = {"plain": [], "boxed": []}
    for _ in range(n):
        for name, argv in (("plain", plain), ("boxed", boxed)):
            t = time.perf_counter()
            subprocess.run(argv, check=True)
            times[name].append(time.perf_counter() - t)
    return {k: statistics.median(v) * 1e3 for k, v in times.items()}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cpu")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--per-round", type=int, default=3)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    box = confinement.support()
    if not box.available:
        raise SystemExit(box.describe())
    report: dict[str, Any] = {"device": args.device, "mechanism": box.mechanism}
    report["wrapper_ms"] = wrapper(20)
    starts: dict[str, list[float]] = {"boxed": [], "unboxed": []}
    once: list[float] = []
    evals: dict[str, list[dict[str, Any]]] = {"boxed": [], "unboxed": []}
    for _ in range(args.rounds):
        for boxed in (True, False):
            name = "boxed" if boxed else "unboxed"
            started = _child(START_CHILD, [args.device, "3"], boxed)
            assert all(r["confined"] is boxed for r in started["starts"]), started
            starts[name] += [r["seconds"] for r in started["starts"]]
            if boxed:
                once.append(started["once"])
            rows = _child(EVAL_CHILD, ["-", args.device, str(args.per_round)], boxed)
            assert all(r["confined"] is boxed for r in rows), rows
            evals[name] += rows
    report["start_s"] = {k: statistics.median(v) for k, v in starts.items()}
    report["start_all_s"] = starts
    report["once_per_process_s"] = statistics.median(once)
    report["eval_s"] = {
        k: statistics.median(r["seconds"] for r in v if r["passed"]) for k, v in evals.items()
    }
    report["speedup"] = {
        k: [round(r["speedup"], 3) for r in v if r["speedup"] is not None and r["passed"]]
        for k, v in evals.items()
    }
    print(f"confinement on {args.device} ({box.mechanism}); medians")
    print(f"{'':28} {'unboxed':>10} {'boxed':>10} {'added':>10}")
    w = report["wrapper_ms"]
    print(
        f"{'python -S -c pass (ms)':28} {w['plain']:10.1f} {w['boxed']:10.1f} {w['boxed'] - w['plain']:10.1f}"
    )
    s = report["start_s"]
    added = (s["boxed"] - s["unboxed"]) * 1e3
    print(f"{'worker start (ms)':28} {s['unboxed'] * 1e3:10.0f} {s['boxed'] * 1e3:10.0f} {added:10.0f}")
    print(f"{'once per process (ms)':28} {'':10} {report['once_per_process_s'] * 1e3:10.0f}")
    e = report["eval_s"]
    print(
        f"{'verify + time (s)':28} {e['unboxed']:10.2f} {e['boxed']:10.2f} {e['boxed'] - e['unboxed']:10.2f}"
    )
    for k, v in report["speedup"].items():
        print(f"speedups, {k}: {v}")
    report["rejected"] = {k: [r["message"] for r in v if not r["passed"]] for k, v in evals.items()}
    for k, v in report["rejected"].items():
        print(f"rejected, {k}: {len(v)} of {len(evals[k])}" + "".join(f"\n  {m}" for m in v))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
