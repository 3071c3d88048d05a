"""The timed-output check, per run (docs/PITFALLS.md 24): how often it rejects candidates that do less work
on only some of their timed calls, how many calls it looks at, and what it costs an honest candidate.

The judge checks CHECKED_CALLS calls of every timed block, picked after the block (harness/interleave.py);
until 2026-12-07 it checked one call of the first two blocks and of a third of the others. For each run's
block count this also prints that scheme's expected number of checked calls, and the chance that each
scheme lets through a candidate skipping a share s of its calls, (1 - s)^checked: computed, not run.

    python benchmarks/timed_outputs.py [--rounds 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "tests"))

from kernelwright.core.jsonable import to_json  # noqa: E402
from kernelwright.harness.interleave import CHECKED_CALLS  # noqa: E402
from support.adversarial import load_cases  # noqa: E402
from unit.harness.jobs_subprocess import run_jobs  # noqa: E402

# (candidate, the share of its timed calls it skips work on)
CANDIDATES = [
    ("cheat_skip_every_third.py", 1 / 3),
    ("cheat_skip_random_share.py", 1 / 3),
    ("cheat_skip_in_bursts.py", 1 / 2),
    ("cheat_dozen_then_half.py", 1.0),
    ("honest_matmul.py", 0.0),
    ("honest_softmax.py", 0.0),
]
CHECKED = re.compile(r"timed outputs checked: (\d+) of (\d+) timed calls \((\d+) a block")
OLD_ALWAYS, OLD_CHANCE = 2, 0.34  # the scheme before: one call of the first two blocks, then a third


def old_checked(blocks: float) -> float:
    return min(blocks, OLD_ALWAYS) + OLD_CHANCE * max(0.0, blocks - OLD_ALWAYS)


def measure(rounds: int) -> list[dict[str, Any]]:
    cases = load_cases()
    order = [name for name, _ in CANDIDATES for _ in range(rounds)]
    started = time.monotonic()
    replies = run_jobs([("verify", to_json(cases[n].job())) for n in order], timeout=3600)
    print(f"{len(order)} verify jobs in {time.monotonic() - started:.0f} s", file=sys.stderr)
    rows = []
    for name, share in CANDIDATES:
        mine = [r for n, r in zip(order, replies, strict=True) if n == name]
        checked = []
        for r in mine:
            for note in r.get("notes", []):
                if m := CHECKED.match(note):
                    checked.append((int(m[1]), int(m[2]), int(m[3])))
        seconds = [r["phase_seconds"].get("timed_output_check", 0.0) for r in mine if r["passed"]]
        timing = [
            sum(
                r["phase_seconds"].get(k, 0.0)
                for k in ("timing_reference", "timing_candidate", "timed_output_check")
            )
            for r in mine
            if r["passed"]
        ]
        rejected = [r["check"] for r in mine if not r["passed"]]
        rows.append(
            {
                "candidate": name,
                "skips": share,
                "runs": len(mine),
                "rejected": len(rejected),
                "checks": sorted(set(rejected)),
                "checked_calls": statistics.median(c[0] for c in checked) if checked else None,
                "timed_calls": statistics.median(c[1] for c in checked) if checked else None,
                "a_block": checked[0][2] if checked else None,
                "check_s": statistics.median(seconds) if seconds else None,
                "timing_s": statistics.median(timing) if timing else None,
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| candidate | skips | rejected | by | checked calls of timed (a block) | check s / timing s a run |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        checked = "-"
        if r["checked_calls"] is not None:
            checked = f"{r['checked_calls']:.0f} of {r['timed_calls']:.0f} ({r['a_block']})"
        cost = "-"
        if r["check_s"] is not None and r["timing_s"]:
            cost = f"{r['check_s']:.3f} / {r['timing_s']:.3f} ({r['check_s'] / r['timing_s']:.0%})"
        lines.append(
            f"| {r['candidate']} | {r['skips']:.0%} | {r['rejected']}/{r['runs']} | "
            f"{', '.join(r['checks']) or '-'} | {checked} | {cost} |"
        )
    honest = [r for r in rows if r["skips"] == 0.0 and r["checked_calls"] is not None]
    if honest:
        per_block = statistics.median(r["checked_calls"] / r["a_block"] for r in honest)
        now, before = per_block * CHECKED_CALLS, old_checked(per_block)
        lines += [
            "",
            f"Computed for the honest runs' median of {per_block:.0f} blocks: {now:.0f} checked calls now, "
            f"{before:.1f} in the scheme before. Chance that a candidate skipping a share s of its calls "
            "goes unseen, (1 - s)^checked:",
            "",
            "| s | now | before |",
            "|---|---|---|",
        ]
        for s in (0.05, 0.1, 0.25, 1 / 3, 0.5):
            lines.append(f"| {s:.0%} | {(1 - s) ** now:.2%} | {(1 - s) ** before:.0%} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    rows = measure(args.rounds)
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
