"""`make demo` (scripts/demo.sh) run after run, on an idle machine and with one core kept busy.

    python benchmarks/demo_runs.py [--runs 5] [--json FILE]

The README's main job must work on a person's machine, which is rarely idle (issue 15). Each run is the
demo script end to end in a fresh folder (optimize with the builtin provider on the CPU, --apply, then
`kernelwright verify` of the result), alternating idle and busy runs so that drift on the machine hits
both. "Busy" is a process spinning on core 0 for the whole run. Prints one row per run (wall time, exit
code, the best candidate and its speedup with its interval, what stopped the run) and a summary per load:
runs that succeeded, median and worst wall time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from support.load import one_core_busy  # noqa: E402  (the tests' busy core: one definition of "busy")

BEST = re.compile(r"^best\s+(\S+): (\S+ \S+), ([\d.]+x \[[\d.]+-[\d.]+\])", re.MULTILINE)
STOPPED = re.compile(r"^stopped by\s+(.*)$", re.MULTILINE)


@dataclass
class Run:
    load: str
    index: int
    seconds: float
    exit_code: int
    best: str
    speedup: str
    stopped_by: str


def busy(load: str) -> contextlib.AbstractContextManager[None]:
    return one_core_busy() if load == "one core busy" else contextlib.nullcontext()


def one_run(load: str, index: int, kernelwright: str) -> Run:
    with tempfile.TemporaryDirectory(prefix="kw-demo-bench-") as work, busy(load):
        env = {**os.environ, "KERNELWRIGHT": kernelwright, "DEMO_DIR": work, "NO_COLOR": "1"}
        started = time.monotonic()
        proc = subprocess.run(
            [str(ROOT / "scripts" / "demo.sh")], env=env, capture_output=True, text=True, check=False
        )
        seconds = time.monotonic() - started
    best = BEST.search(proc.stdout)
    stopped = STOPPED.search(proc.stdout)
    if proc.returncode != 0:
        sys.stderr.write(f"run {index} ({load}) failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}\n")
    return Run(
        load,
        index,
        seconds,
        proc.returncode,
        f"{best.group(1)} ({best.group(2)})" if best else "-",
        best.group(3) if best else "-",
        stopped.group(1) if stopped else "-",
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per load (default 5)")
    parser.add_argument("--json", metavar="FILE", default=None)
    args = parser.parse_args()
    kernelwright = str(Path(sys.executable).with_name("kernelwright"))
    runs: list[Run] = []
    for i in range(1, args.runs + 1):
        for load in ("idle", "one core busy"):
            run = one_run(load, i, kernelwright)
            runs.append(run)
            print(
                f"{run.load:<14} {run.index:>2}  {run.seconds:6.0f} s  exit {run.exit_code}  "
                f"{run.speedup:<20} {run.best}  | {run.stopped_by}",
                flush=True,
            )
    print()
    print(f"{'load':<14} {'succeeded':>9}  {'median s':>8}  {'worst s':>7}")
    for load in ("idle", "one core busy"):
        mine = [r for r in runs if r.load == load]
        ok = sum(r.exit_code == 0 for r in mine)
        secs = [r.seconds for r in mine]
        print(f"{load:<14} {ok:>4} of {len(mine):<2}  {statistics.median(secs):8.0f}  {max(secs):7.0f}")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in runs], indent=2))
    return 0 if all(r.exit_code == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
