"""`kernelwright scan FILE` as a whole process, against a bare tree-sitter parse of the same file.

    python benchmarks/scan_cost.py [--repeats 21] [--json] [--breakdown]

For a generated 5,000-line Python file and a 5,000-line CUDA file (the generators of
benchmarks/analysis.py), times two subprocesses, alternating them so both see the same load:
(a) a Python that only imports tree_sitter and the grammar and parses the file (the floor: interpreter
start, the grammar's import and the parse), and (b) `kernelwright scan FILE` through the venv's console
script (interpreter start, kernelwright's imports, the analysis and the printed table). Prints the median
wall time of each over --repeats runs and the ratio b/a; the target (issue 15) is b/a <= 2.5.

Both run with byte-compiled modules, as an installed kernelwright does: PYTHONDONTWRITEBYTECODE is
dropped from the children's environment and one unmeasured run of each writes the .pyc files first.

`--breakdown` also splits a scan into its parts, each the median over --repeats fresh processes:
interpreter start (`python -c pass`), kernelwright's imports (the CLI and the scan verb, tree-sitter
included), the first analysis's one-off cost (queries compiled on first use; the first analysis minus a
second one with the caches cleared), the parse, the rest of the analysis, the printed table, and what
is left of the scan's wall time (argument parsing, reading the file, interpreter exit).
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
from dataclasses import asdict, dataclass
from pathlib import Path

from analysis import cuda_source, python_source

TARGET = 2.5
LINES = 5000
BARE = (
    "import sys\n"
    "import tree_sitter_{grammar} as grammar\n"
    "from tree_sitter import Language, Parser\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    Parser(Language(grammar.language())).parse(f.read())\n"
)


# In a fresh process: each part of a scan, timed in order (ms), as one JSON line.
PARTS = """
import io, json, sys, time
t0 = time.perf_counter()
import kernelwright.cli, kernelwright.cli.scan as scan
t1 = time.perf_counter()
from kernelwright.analysis import analyze, language_for
from kernelwright.analysis.parsing import parser_for
from kernelwright.analysis.pipeline import clear_caches
from kernelwright.cli.output import Output
data = open(sys.argv[1], "rb").read()
language = language_for(sys.argv[1])
t2 = time.perf_counter()
result = analyze(data, sys.argv[1])
t3 = time.perf_counter()
clear_caches()
t4 = time.perf_counter()
analyze(data, sys.argv[1])
t5 = time.perf_counter()
parser_for(language).parse(data)
t6 = time.perf_counter()
scan._print(Output(False, stream=io.StringIO()), result)
t7 = time.perf_counter()
ms = lambda a, b: (b - a) * 1e3
print(json.dumps({"imports": ms(t0, t1), "first": ms(t2, t3), "warm": ms(t4, t5), "parse": ms(t5, t6),
                  "table": ms(t6, t7)}))
"""


@dataclass(frozen=True)
class Row:
    file: str
    lines: int
    bare_ms: float
    scan_ms: float
    ratio: float
    bare_spread_ms: tuple[float, float]  # p10, p90
    scan_spread_ms: tuple[float, float]


def wall_ms(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - t0) * 1e3


def spread(times: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(times, n=10, method="inclusive")
    return round(q[0], 1), round(q[-1], 1)


def measure(path: Path, grammar: str, repeats: int, env: dict[str, str]) -> Row:
    python = sys.executable
    kernelwright = str(Path(python).parent / "kernelwright")
    bare = [python, "-c", BARE.format(grammar=grammar), str(path)]
    scan = [kernelwright, "scan", str(path)]
    check = subprocess.run(scan, env=env, capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise SystemExit(f"`kernelwright scan {path}` exited {check.returncode}:\n{check.stderr}")
    wall_ms(bare, env)  # unmeasured: writes byte code, warms the page cache
    bare_times: list[float] = []
    scan_times: list[float] = []
    for _ in range(repeats):
        bare_times.append(wall_ms(bare, env))
        scan_times.append(wall_ms(scan, env))
    b, s = statistics.median(bare_times), statistics.median(scan_times)
    return Row(
        path.name,
        path.read_text(encoding="utf-8").count("\n"),
        round(b, 1),
        round(s, 1),
        round(s / b, 2),
        spread(bare_times),
        spread(scan_times),
    )


def breakdown(path: Path, scan_ms: float, repeats: int, env: dict[str, str]) -> dict[str, float]:
    python = sys.executable
    start = statistics.median(wall_ms([python, "-c", "pass"], env) for _ in range(repeats))
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [python, "-c", PARTS, str(path)], env=env, capture_output=True, text=True, check=True
        ).stdout
        runs.append(json.loads(out))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    parts = {
        "interpreter start": start,
        "imports (CLI, scan, analysis, tree-sitter)": med["imports"],
        "first-use cost (queries compiled)": med["first"] - med["warm"],
        "parse": med["parse"],
        "analysis after the parse": med["warm"] - med["parse"],
        "table": med["table"],
    }
    parts["rest (arguments, read, exit)"] = scan_ms - sum(parts.values())
    return {k: round(v, 1) for k, v in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21, help="runs of each subprocess (default 21)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument("--breakdown", action="store_true", help="also split each scan into its parts")
    args = parser.parse_args()
    if args.repeats < 2:
        parser.error("--repeats must be at least 2")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["NO_COLOR"] = "1"
    with tempfile.TemporaryDirectory(prefix="kw-scan-cost-") as tmp:
        py, cu = Path(tmp) / "generated.py", Path(tmp) / "generated.cu"
        py.write_text(python_source(LINES), encoding="utf-8")
        cu.write_text(cuda_source(LINES), encoding="utf-8")
        rows = [measure(py, "python", args.repeats, env), measure(cu, "cuda", args.repeats, env)]
        parts = (
            {r.file: breakdown(f, r.scan_ms, args.repeats, env) for r, f in zip(rows, (py, cu), strict=True)}
            if args.breakdown
            else {}
        )
    if args.json:
        doc = {"target": TARGET, "repeats": args.repeats, "rows": [asdict(r) for r in rows]}
        print(json.dumps({**doc, "breakdown": parts} if parts else doc))
        return
    print(f"median wall ms of {args.repeats} runs each (p10-p90); target scan/bare <= {TARGET}")
    print("| file | lines | bare parse ms | scan ms | scan / bare |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        bare = f"{r.bare_ms:.1f} ({r.bare_spread_ms[0]:.1f}-{r.bare_spread_ms[1]:.1f})"
        scan = f"{r.scan_ms:.1f} ({r.scan_spread_ms[0]:.1f}-{r.scan_spread_ms[1]:.1f})"
        flag = "" if r.ratio <= TARGET else " **over**"
        print(f"| {r.file} | {r.lines} | {bare} | {scan} | {r.ratio:.2f}{flag} |")
    if parts:
        names = list(next(iter(parts.values())))
        print()
        print("| part of a scan, ms | " + " | ".join(parts) + " |")
        print("|---|" + "---:|" * len(parts))
        for name in names:
            print(f"| {name} | " + " | ".join(f"{p[name]:.1f}" for p in parts.values()) + " |")


if __name__ == "__main__":
    main()
