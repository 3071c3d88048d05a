"""`kernelwright bench FILE[:SYMBOL]`: measure a site in a worker, with its baselines and roofline.

Exit codes: 0 measured, 1 the code ran but could not be measured (it raised, crashed, timed out, ...),
2 usage or load error (no such file or symbol, no bench spec, the worker cannot start).

What the verbs share with it (the site, the options, the pool) is in cli/common.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kernelwright.cli.common import (
    add_cluster_argument,
    add_device_argument,
    add_timeout_argument,
    cluster_label,
    cluster_of,
    key_values,
    load_problem,
    measurement_rows,
    positive_int,
    report_stopped,
    run_on_pool,
    with_progress,
)
from kernelwright.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Output
from kernelwright.core.errors import KernelwrightError
from kernelwright.core.jobs import BenchJob, BenchOptions, JobType, ProblemRef, check_device
from kernelwright.core.jsonable import to_json
from kernelwright.core.measure import BenchFailure, ErrorStage, Measurement
from kernelwright.engine import client


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="FILE[:SYMBOL]", help="the file, and the site if it has several")
    add_device_argument(parser)
    add_cluster_argument(parser)
    parser.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time torch.compile of the code, the baseline a speedup is read against (on by default; "
        "--no-compile skips its compile time)",
    )
    parser.add_argument("--profile", action="store_true", help="attribute time to lines (torch.profiler)")
    parser.add_argument(
        "--ncu", action="store_true", help="per-kernel Nsight Compute metrics, where ncu exists"
    )
    parser.add_argument(
        "--repeats", type=positive_int, default=None, help="timed calls, at least 1 (default: until stable)"
    )
    add_timeout_argument(parser, JobType.BENCH)


# -- finding the site --------------------------------------------------------------------------------


# -- running -----------------------------------------------------------------------------------------


def run(args: argparse.Namespace, out: Output) -> int:
    try:
        device = check_device(args.device)
        cluster = cluster_of(args)
        problem = load_problem(args.target)
    except KernelwrightError as exc:
        out.error(str(exc), code="usage")
        return EXIT_USAGE
    options = BenchOptions(
        repeats=args.repeats,
        compile_baseline=args.compile,
        compile_off_by="" if args.compile else "--no-compile",
        profile_lines=args.profile,
        ncu=args.ncu,
    )
    job = BenchJob(problem=problem, device=device, options=options)
    label = f"{Path(problem.path).name}:{problem.symbol}"
    try:
        baseline = " (and torch.compile's baseline, which compiles first: --no-compile skips it)"
        out.progress(
            f"bench {label}: starting a worker on {device}{cluster_label(cluster)}"
            f"{baseline if args.compile else ''}…"
        )
        result = run_on_pool(
            cluster,
            device,
            lambda pool: with_progress(
                out,
                f"bench {label} on {pool.devices[0].label}",
                client.bench(pool, job, timeout=args.timeout),
            ),
        )
    except (KernelwrightError, KeyboardInterrupt) as exc:
        return report_stopped(out, exc)
    out.end_progress()
    if isinstance(result, BenchFailure):
        return _report_failure(out, label, result)
    _report(out, problem, result)
    return EXIT_OK


def _report_failure(out: Output, label: str, failure: BenchFailure) -> int:
    message = f"{label} could not be measured ({failure.stage}): {failure.message}"
    if failure.line is not None:
        message += f" [line {failure.line + 1}]"
    if out.json_mode:
        out.error(message, code="bench_failed", failure=to_json(failure))
    else:
        out.error(message)
        if failure.traceback_tail:
            out.err.write(failure.traceback_tail.rstrip() + "\n")
        if failure.log:
            out.err.write(failure.log.rstrip() + "\n")
    return EXIT_USAGE if failure.stage in (ErrorStage.LOAD, ErrorStage.JOB) else EXIT_FAILED


def _report(out: Output, problem: ProblemRef, m: Measurement) -> None:
    if out.json_mode:
        out.document(
            {
                "site": {"path": problem.path, "symbol": problem.symbol, "kind": str(problem.kind)},
                "measurement": to_json(m),
            }
        )
        return
    out.line(out.style(f"{Path(problem.path).name}:{problem.symbol}", "1"))
    key_values(out, measurement_rows(m))
