"""Harness benchmark (run on the GPU machine): per sample, median, spread, roofline fraction, eager and
torch.compile baselines; repeatability (5 benches agree within 2%: (max-min)/median); agreement with
triton.testing.do_bench (within 5%); cost of verify+time per candidate.

Needs only torch, triton and numpy (kernelwright.core is pure Python). Specs come from a small table
below, or from `kernelwright scan --json samples > specs.json` passed as --specs.

    python benchmarks/harness.py --out bench-harness.json [--specs specs.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from kernelwright.core.jobs import BenchJob, BenchOptions, CandidateRef, ProblemRef, VerifyJob  # noqa: E402
from kernelwright.core.jsonable import from_json, to_json  # noqa: E402
from kernelwright.core.site import FunctionSpec, ModuleSpec, Site, SiteKind  # noqa: E402

ADV = ROOT / "samples" / "adversarial"
# (file, symbol, kind, spec, honest candidate or None)
TABLE: list[tuple[Path, str, SiteKind, Any, Path | None]] = [
    (
        ADV / "softmax_reference.py",
        "row_softmax",
        SiteKind.TORCH_FUNCTION,
        FunctionSpec("make_inputs", cpu_inputs="make_cpu_inputs"),
        ADV / "honest_softmax_triton.py",
    ),
    (ADV / "gelu_reference.py", "Model", SiteKind.TORCH_MODULE, ModuleSpec(), ADV / "honest_gelu.py"),
]


def problems(specs_file: str | None) -> list[tuple[ProblemRef, Path | None]]:
    out = [(ProblemRef(str(p), p.read_text(), sym, kind, spec), cand) for p, sym, kind, spec, cand in TABLE]
    if specs_file:
        data = json.loads(Path(specs_file).read_text())
        files = data.get("files", data) if isinstance(data, dict) else data
        for entry in files:
            path = Path(entry["path"])
            for raw in entry.get("sites", []):
                site = from_json(Site, raw)
                if site.spec is not None and path.parent != ADV:
                    out.append(
                        (ProblemRef(str(path), path.read_text(), site.name, site.kind, site.spec), None)
                    )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--specs", default=None)
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()

    from kernelwright.harness.jobs import handle  # the harness, in this process (a benchmark, not a worker)

    opts = BenchOptions(profile_lines=False)
    rows: list[dict[str, Any]] = []
    for ref, cand in problems(args.specs):
        medians: list[float] = []
        first: dict[str, Any] = {}
        for i in range(5):
            reply = handle(
                "bench",
                to_json(
                    BenchJob(
                        ref,
                        device=args.device,
                        options=opts if i == 0 else BenchOptions(profile_lines=False, compile_baseline=False),
                    )
                ),
            )
            m = reply["measurement"]  # type: ignore[index]
            if m is None:
                failure = reply["failure"]  # type: ignore[index]
                rows.append({"sample": f"{Path(ref.path).name}:{ref.symbol}", "failure": failure})
                break
            medians.append(m["timing"]["median_us"])
            first = first or m
        else:
            med = statistics.median(medians)
            row: dict[str, Any] = {
                "sample": f"{Path(ref.path).name}:{ref.symbol}",
                "device": first["device"]["name"],
                "median_us": med,
                "p10_us": first["timing"]["p10_us"],
                "p90_us": first["timing"]["p90_us"],
                "roofline_fraction": (first["roofline"] or {}).get("fraction"),
                "baselines": {
                    b["kind"]: b["timing"]["median_us"] if b["timing"] else b["error"]
                    for b in first["baselines"]
                },
                "repeatability": (max(medians) - min(medians)) / med,
                "repeatable_within_2pct": (max(medians) - min(medians)) / med <= 0.02,
                "problem_size": first["problem_size"],
            }
            row["do_bench_us"] = do_bench_of(ref, args.device)
            if row["do_bench_us"]:
                row["do_bench_agrees_5pct"] = abs(med - row["do_bench_us"]) / row["do_bench_us"] <= 0.05
            if cand is not None:
                t0 = time.perf_counter()
                v = handle(
                    "verify",
                    to_json(
                        VerifyJob(
                            ref,
                            CandidateRef(str(cand), cand.read_text()),
                            device=args.device,
                            time_candidate=True,
                            options=BenchOptions(profile_lines=False, compile_baseline=False),
                        )
                    ),
                )
                row["candidate"] = cand.name
                row["candidate_passed"] = v["passed"]  # type: ignore[index]
                row["verify_and_time_s"] = time.perf_counter() - t0
            rows.append(row)
    print(
        f"{'sample':40} {'median µs':>10} {'p10-p90':>16} {'roof':>6} {'rep %':>6} "
        f"{'do_bench':>9} {'cand s':>7}"
    )
    for r in rows:
        if "failure" in r:
            print(f"{r['sample']:40} FAILED: {r['failure']['message'][:80]}")
            continue
        roof = f"{r['roofline_fraction']:.2f}" if r["roofline_fraction"] else "-"
        print(
            f"{r['sample']:40} {r['median_us']:10.1f} {r['p10_us']:7.1f}-{r['p90_us']:<8.1f} {roof:>6} "
            f"{100 * r['repeatability']:6.2f} {r.get('do_bench_us') or 0:9.1f} "
            f"{r.get('verify_and_time_s', 0):7.2f}"
        )
    Path(args.out).write_text(json.dumps(rows, indent=2))
    return 0


def do_bench_of(ref: ProblemRef, device: str) -> float | None:
    """triton.testing.do_bench on the same callable and inputs the harness loads (GPU only)."""
    if not device.startswith("cuda"):
        return None
    try:
        import triton.testing
        from kernelwright.harness.bench import load_problem
        from kernelwright.harness.device import resolve
    except ImportError:
        return None
    target = resolve(device)
    problem = load_problem(BenchJob(ref, device=device), target)
    args = problem.draw(777)
    import torch

    with torch.inference_mode():
        return float(triton.testing.do_bench(lambda: problem(args), return_mode="median")) * 1000.0


if __name__ == "__main__":
    sys.exit(main())
