"""`kernelwright verify REFERENCE[:SYMBOL] CANDIDATE`: does the candidate compute what the reference does?

The candidate runs in a fresh worker that has never loaded other candidate code. For a module problem
the candidate defines `ModelNew`; a candidate file that defines only `Model` (the problem file rewritten,
as `optimize --apply` leaves it) is checked through its `Model`. Exit codes: 0 it
passes, 1 it is rejected (the failed check is named: load, run, value, replay, tamper, ...; a candidate
that crashes, hangs or exhausts memory is rejected too), 2 usage or load error (no such file or symbol,
no bench spec, the worker cannot start).
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

from kernelwright.analysis import analyze
from kernelwright.cli.common import (
    add_cluster_argument,
    add_device_argument,
    add_timeout_argument,
    add_unconfined_argument,
    cluster_label,
    cluster_of,
    key_values,
    load_problem,
    positive_int,
    read_source,
    report_stopped,
    run_on_pool,
    warn_if_unconfined,
    with_progress,
    worker_config,
)
from kernelwright.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Output
from kernelwright.core.errors import KernelwrightError
from kernelwright.core.jobs import (
    CandidateRef,
    JobType,
    ProblemRef,
    VerifyJob,
    candidate_symbol,
    check_device,
)
from kernelwright.core.jsonable import to_json
from kernelwright.core.measure import Verdict
from kernelwright.core.site import CudaSpec, ModuleSpec
from kernelwright.engine import client
from kernelwright.engine.backends import EnginePool
from kernelwright.optimize.extract import defined_names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reference", metavar="REFERENCE[:SYMBOL]", help="the code as it stands")
    parser.add_argument("candidate", metavar="CANDIDATE", help="the file with the proposed replacement")
    add_device_argument(parser)
    add_cluster_argument(parser)
    parser.add_argument(
        "--trials", type=positive_int, default=3, help="independent input draws, at least 1 (default 3)"
    )
    add_timeout_argument(parser, JobType.VERIFY)
    add_unconfined_argument(parser)


def load_candidate(path_text: str, reference: ProblemRef) -> CandidateRef:
    path = Path(path_text)
    source = read_source(path, "candidate")
    spec: CudaSpec | None = None
    if isinstance(reference.spec, CudaSpec):
        # A .cu candidate may carry its own launch shape in its own directive.
        probe = CandidateRef(path=str(path.resolve()), source=source)
        wanted = candidate_symbol(reference, probe)
        site = analyze(source, str(path)).site(wanted)
        spec = site.spec if site is not None and isinstance(site.spec, CudaSpec) else None
    symbol: str | None = None
    if isinstance(reference.spec, ModuleSpec):
        names = _top_level_names(source)
        if reference.spec.candidate not in names and reference.symbol in names:
            # A whole-file rewrite of the problem (what `optimize --apply` writes) keeps the name `Model`.
            symbol = reference.symbol
    return CandidateRef(path=str(path.resolve()), source=source, symbol=symbol, spec=spec)


def _top_level_names(source: str) -> set[str]:
    """Classes, functions and assigned names at module level; empty if the file does not parse (the
    worker then reports the syntax error with its line)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    return defined_names(tree, imports=False)


def run(args: argparse.Namespace, out: Output) -> int:
    try:
        device = check_device(args.device)
        cluster = cluster_of(args)
        reference = load_problem(args.reference)
        candidate = load_candidate(args.candidate, reference)
    except KernelwrightError as exc:
        out.error(str(exc), code="usage")
        return EXIT_USAGE
    job = VerifyJob(reference=reference, candidate=candidate, device=device, trials=args.trials)
    try:
        name = Path(candidate.path).name
        out.progress(f"verify {name} against {reference.symbol}: starting a worker{cluster_label(cluster)}…")
        config = worker_config(
            allow_unconfined=args.allow_unconfined,
            readable=(Path(reference.path).parent, Path(candidate.path).parent),
        )

        async def work(pool: EnginePool) -> Verdict:
            warn_if_unconfined(out, pool, args.allow_unconfined)
            return await with_progress(out, f"verify {name}", client.verify(pool, job, timeout=args.timeout))

        verdict = run_on_pool(cluster, device, work, config=config)
    except (KernelwrightError, KeyboardInterrupt) as exc:
        return report_stopped(out, exc)
    out.end_progress()
    _report(out, reference, candidate, verdict)
    return EXIT_OK if verdict.passed else EXIT_FAILED


def _report(out: Output, reference: ProblemRef, candidate: CandidateRef, verdict: Verdict) -> None:
    if out.json_mode:
        out.document(
            {
                "passed": verdict.passed,
                "check": verdict.check.value if verdict.check else None,
                "reference": {"path": reference.path, "symbol": reference.symbol},
                "candidate": {"path": candidate.path, "symbol": candidate_symbol(reference, candidate)},
                "verdict": to_json(verdict),
            }
        )
        return
    if verdict.passed:
        out.line(out.style("PASS", "32") + f"  {verdict.message}")
    else:
        where = f" (line {verdict.line + 1})" if verdict.line is not None else ""
        out.line(out.style(f"REJECTED: {verdict.check}", "31") + f"{where}  {verdict.message}")
        if verdict.traceback_tail:
            out.line(out.style(verdict.traceback_tail.rstrip(), "2"))
    key_values(out, [[k, v] for k, v in _facts(verdict)])


def _facts(verdict: Verdict) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    if verdict.device is not None:
        facts.append(("device", verdict.device.label))
    facts.append(("trials", str(verdict.trials)))
    if verdict.flags:
        facts.append(("flags", ", ".join(f.value for f in verdict.flags)))
    for key, value in sorted(verdict.details.items()):
        facts.append((key, f"{value:.3g}"))
    facts += [("note", n) for n in verdict.notes]
    return facts
