"""One short line per problem from `kernelwright suite --json` output (for a log with little room):
python benchmarks/suite_lines.py FILE.jsonl..."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _f(v: object, fmt: str = ".3f") -> str:
    return "-" if v is None else format(v, fmt)


for name in sys.argv[1:]:
    for line in Path(name).read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("kind") == "problem":
            modes = " ".join(
                f"{m.removeprefix('compile-')}={_f(s)}" for m, s in row["compile_speedups"].items()
            )
            print(
                f"{row['name']} {row['status']} eager={_f(row.get('eager_us'), '.1f')}us kept={row['kept']} "
                f"x{_f(row['speedup'])} [{_f(row.get('kept_low'))}-{_f(row.get('kept_high'))}] {modes} "
                f"vs={_f(row.get('vs_compile'))} roof={_f(row.get('roofline_before'), '.2f')}->"
                f"{_f(row.get('roofline_after'), '.2f')} notes={row.get('compile_notes')} "
                f"{row.get('reason', '')[:120]}"
            )
        elif row.get("kind") == "suite_done":
            print("summary", json.dumps(row["summary"])[:600], row.get("peaks", ""))
