"""`kernelwright suite DIR`: a provider over every KernelBench-convention problem of a folder.

One worker pool for the whole folder and one budget per problem (`--budget`, as `optimize` takes it).
A progress line per problem while it runs, a line per problem when it ends, then the table and the
summary the field uses (correct rate, fast_1, fast_1.5, geometric mean and median speedup over eager
and over the best torch.compile mode). --json prints one JSON line per problem and a last `suite_done`
line; --report writes an HTML report with a plot. A problem that cannot run here (too big for the
device, a reference that fails, out of time) is reported with its reason, and the suite goes on.
Nothing in the folder is written: the kept candidates are shown, not applied. A problem keeps its
fastest verified candidate faster than eager with its whole interval (--min-speedup X raises the bar;
1.03 is the editor's edit rule: optimize/suite.py says why the suite's differs).

Exit codes: 0 the suite ran (whatever the problems' outcomes), 1 no problem could be evaluated,
2 usage (not a folder, bad budget or provider settings), 130 ^C.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from pathlib import Path

from kernelwright.cli.common import (
    EXIT_INTERRUPTED,
    add_cluster_argument,
    add_device_argument,
    add_timeout_argument,
    add_unconfined_argument,
    cluster_label,
    cluster_of,
    worker_config,
)
from kernelwright.cli.optimize import add_provider_arguments
from kernelwright.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Output
from kernelwright.core.errors import KernelwrightError, UsageError
from kernelwright.core.jobs import JobType, check_device
from kernelwright.core.jsonable import JsonValue, to_json
from kernelwright.core.settings import ProviderName
from kernelwright.engine.backends import make_pool
from kernelwright.optimize.budget import Budget, parse_budget
from kernelwright.optimize.events import NewBest, RoundStarted, VerdictReady
from kernelwright.optimize.loop import MIN_SPEEDUP
from kernelwright.optimize.providers.base import Provider, ProviderError
from kernelwright.optimize.providers.factory import make_provider
from kernelwright.optimize.suite import (
    SUITE_MIN_SPEEDUP,
    ProblemDone,
    ProblemEvent,
    ProblemResult,
    ProblemStarted,
    ProblemStatus,
    SuiteDone,
    problem_files,
    run_suite,
)
from kernelwright.optimize.suite_report import (
    HEADERS,
    compile_gaps,
    one_line,
    render_suite_report,
    summary_rows,
    table_rows,
)
from kernelwright.store import Store, StoreError, workspace_root

# Per problem: the builtin search's rewrites and compile modes fit in 3 rounds of 4.
DEFAULT_BUDGET = "rounds=3,candidates=12,time=300"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="DIR", help="a folder of KernelBench-convention problem files")
    add_provider_arguments(parser)
    parser.add_argument(
        "--budget",
        default=DEFAULT_BUDGET,
        help=f"each problem's limits, as optimize takes them (default {DEFAULT_BUDGET})",
    )
    add_device_argument(parser)
    add_cluster_argument(parser)
    add_unconfined_argument(parser)
    add_timeout_argument(parser, JobType.VERIFY)
    parser.add_argument(
        "--min-speedup",
        type=_speedup_bar,
        default=SUITE_MIN_SPEEDUP,
        metavar="X",
        help=(
            "keep a problem's candidate only if its whole 95%% interval is at or above X over eager "
            f"(default {SUITE_MIN_SPEEDUP:g}, the field's rule; {MIN_SPEEDUP:g} scores by the editor's "
            "edit rule)"
        ),
    )
    parser.add_argument("--report", metavar="FILE.html", default=None, help="write an HTML report")


def _speedup_bar(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a speedup over eager such as 1.0 or 1.03")
    return value


def run(args: argparse.Namespace, out: Output) -> int:
    folder = Path(args.folder)
    try:
        if not folder.is_dir():
            raise UsageError(f"{folder}: not a folder; name a folder of problem files (Model, get_inputs)")
        if not problem_files(folder):
            raise UsageError(f"{folder}: no .py files in it; a problem is a KernelBench-convention .py file")
        device = check_device(args.device)
        cluster = cluster_of(args)
        budget = parse_budget(args.budget, parse_budget(DEFAULT_BUDGET))
        provider = make_provider(ProviderName(args.provider), args.model, args.base_url)
        store = Store.for_workspace(workspace_root(folder.resolve() / "x.py"))
    except (KernelwrightError, StoreError) as exc:
        out.error(str(exc), code="usage")
        return EXIT_USAGE
    try:
        with store:
            done = asyncio.run(_drive(folder, provider, budget, store, device, cluster, out, args))
    except KeyboardInterrupt:
        out.end_progress()
        out.error("interrupted: the suite and its workers were stopped", code="interrupted")
        return EXIT_INTERRUPTED
    if done is None:
        return EXIT_FAILED
    if args.report:
        Path(args.report).write_text(render_suite_report(done, str(folder)), encoding="utf-8")
    if out.json_mode:
        out.json_line(to_json(done))
    else:
        _print_table(done, out)
        if args.report:
            out.line(f"report: {args.report}")
    return EXIT_OK if done.summary.evaluated else EXIT_FAILED


async def _drive(
    folder: Path,
    provider: Provider,
    budget: Budget,
    store: Store,
    device: str,
    cluster: str,
    out: Output,
    args: argparse.Namespace,
) -> SuiteDone | None:
    live = _Live(out, budget)
    ticker = asyncio.ensure_future(live.tick())
    try:
        out.progress(f"suite {folder}: starting workers on {device}{cluster_label(cluster)}…")
        config = worker_config(allow_unconfined=args.allow_unconfined, readable=(folder.resolve(),))
        async with make_pool(cluster, device, config) as pool:
            async for event in run_suite(
                folder,
                provider,
                budget,
                pool,
                store,
                device=device,
                timeout=args.timeout,
                min_speedup=args.min_speedup,
            ):
                if isinstance(event, SuiteDone):
                    out.end_progress()
                    return event
                live.show(event)
    except (KernelwrightError, ProviderError) as exc:
        out.end_progress()
        out.error(str(exc), code="engine")
    finally:
        ticker.cancel()
        await provider.close()
    return None


class _Live:
    """A live line per problem (round, candidates, best so far); a line when each problem ends."""

    def __init__(self, out: Output, budget: Budget) -> None:
        self.out = out
        self.budget = budget
        self.head = ""
        self.round = 0
        self.evaluated = 0
        self.best: float | None = None
        self.since = time.monotonic()

    def show(self, event: ProblemStarted | ProblemEvent | ProblemDone) -> None:
        out = self.out
        if isinstance(event, ProblemStarted):
            self.head = f"[{event.index}/{event.total}] {Path(event.path).name}"
            self.round, self.evaluated, self.best, self.since = 0, 0, None, time.monotonic()
        elif isinstance(event, ProblemEvent):
            inner = event.event
            if isinstance(inner, RoundStarted):
                self.round = inner.round
            elif isinstance(inner, VerdictReady):
                self.evaluated += 1
            elif isinstance(inner, NewBest):
                self.best = inner.speedup
        else:
            out.end_progress()
            if out.json_mode:
                out.json_line({"kind": "problem", **_json_result(event.result)})
            else:
                out.line(f"{self.head}: {one_line(event.result)}")
            return
        if not out.json_mode:
            out.progress(self.text())

    def text(self) -> str:
        best = f"best {self.best:.2f}x" if self.best else "no speedup yet"
        return (
            f"{self.head}: round {self.round}/{self.budget.rounds} · {self.evaluated} evaluated · {best}"
            f" · {time.monotonic() - self.since:.0f} s"
        )

    async def tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self.head and not self.out.json_mode:
                self.out.progress(self.text())


def _json_result(r: ProblemResult) -> dict[str, JsonValue]:
    data = to_json(r)
    assert isinstance(data, dict)
    return {**data, "vs_compile": r.vs_compile}


def _print_table(done: SuiteDone, out: Output) -> None:
    out.line()
    out.table(HEADERS, table_rows(done))
    out.line()
    rows = summary_rows(done.summary, done)
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        out.line(f"{out.style(label.ljust(width), '1')}  {value}")
    out.line(
        "speedups are the kept candidate's over eager, each from its own interleaved run against the "
        "original; 1.00x where nothing cleared the 95% interval (the original stays)"
    )
    for r in done.results:
        if r.status in (ProblemStatus.FAILED, ProblemStatus.SKIPPED):
            out.line(f"{r.name}: {r.status}: {r.reason.splitlines()[0] if r.reason else ''}")
        elif r.compile_notes:
            out.line(f"* {r.name}: compile modes without a speedup: {compile_gaps(r)}")
