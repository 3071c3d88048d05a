"""`kernelwright optimize FILE[:SYMBOL]`: search for a faster verified replacement of a site.

Live progress on a terminal (round, candidates, best speedup so far), JSON lines with --json (one
event per line, the last one `done`), then a summary table and the diff. With --apply the file is
rewritten, atomically and only if it is unchanged since the run began; `kernelwright undo FILE` puts
the original back. --report writes a self-contained HTML report.

Exit codes: 0 the run finished (improved or not), 1 it failed (provider refused, nothing could be
merged, the file changed before --apply), 2 usage (bad target, budget, provider settings), 130 ^C.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import re
import statistics
import time
from pathlib import Path

from kernelwright.cli.common import (
    EXIT_INTERRUPTED,
    SPEC_HELP,
    add_cluster_argument,
    add_device_argument,
    add_timeout_argument,
    add_unconfined_argument,
    cluster_label,
    cluster_of,
    load_site,
    worker_config,
)
from kernelwright.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Output
from kernelwright.core.errors import KernelwrightError, UsageError
from kernelwright.core.jobs import JobType, check_device
from kernelwright.core.jsonable import JsonValue, to_json
from kernelwright.core.settings import ProviderName
from kernelwright.core.site import Site
from kernelwright.core.text import format_us
from kernelwright.engine.backends import make_pool
from kernelwright.optimize.apply import ApplyError, apply_result, remove_stale_temps
from kernelwright.optimize.budget import Budget, parse_budget
from kernelwright.optimize.events import (
    BudgetSpent,
    CandidateProposed,
    Done,
    Error,
    Event,
    NewBest,
    Note,
    OptimizeResult,
    RoundStarted,
    Status,
    VerdictReady,
    event_json,
)
from kernelwright.optimize.loop import optimize
from kernelwright.optimize.providers.base import Provider, ProviderError
from kernelwright.optimize.providers.factory import make_provider
from kernelwright.optimize.report import render_report
from kernelwright.store import Store, StoreError, workspace_root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="FILE[:SYMBOL]", help="the file, and the site if it has several")
    add_provider_arguments(parser)
    parser.add_argument(
        "--budget",
        default="",
        help=(
            "limits, e.g. rounds=4,candidates=16,time=600,tokens=200000,cost=2.5,target=0.8; after `time` "
            "seconds no new candidate starts, and those being evaluated may finish until `limit` "
            "(default: twice time, at least 120 s more)"
        ),
    )
    add_device_argument(parser)
    add_cluster_argument(parser)
    add_unconfined_argument(parser)
    add_timeout_argument(parser, JobType.VERIFY)
    parser.add_argument("--apply", action="store_true", help="write the best candidate into FILE")
    parser.add_argument("--report", metavar="FILE.html", default=None, help="write an HTML report")


def add_provider_arguments(parser: argparse.ArgumentParser) -> None:
    """--provider, --model and --base-url, as optimize and suite take them."""
    parser.add_argument(
        "--provider",
        choices=[p.value for p in ProviderName],
        default=ProviderName.BUILTIN.value,
        help="who proposes candidates: builtin (no model, the default), anthropic, openai",
    )
    parser.add_argument("--model", default=None, help="the model name (anthropic, openai)")
    parser.add_argument(
        "--base-url", default=None, help="the API endpoint (openai: required; anthropic: optional)"
    )


def run(args: argparse.Namespace, out: Output) -> int:
    try:
        device = check_device(args.device)
        cluster = cluster_of(args)
        budget = parse_budget(args.budget)
        loaded = load_site(args.target)
        path, text, site = loaded.path, loaded.source, loaded.site
        if site.spec is None:
            raise UsageError(
                f"{path}:{site.name} has no bench spec, so candidates cannot be checked; {SPEC_HELP}"
                + (f"\n{loaded.problems}" if loaded.problems else "")
            )
        provider = make_provider(ProviderName(args.provider), args.model, args.base_url)
        store = Store.for_workspace(workspace_root(path))
    except (KernelwrightError, StoreError) as exc:
        out.error(str(exc), code="usage")
        return EXIT_USAGE
    if store.recovery is not None:  # as undo reports it: stderr, and its own line in the JSON
        out.warn(store.recovery.message)
        if out.json_mode:
            out.json_line({"kind": "store_recovered", "store_recovery": to_json(store.recovery)})
    for stale in remove_stale_temps(path):
        out.warn(f"removed {stale}, left by an earlier --apply that was stopped mid-write")
    try:
        with store:
            result = asyncio.run(
                _drive(
                    site,
                    text,
                    path,
                    provider,
                    budget,
                    store,
                    device,
                    cluster,
                    out,
                    args.allow_unconfined,
                    args.timeout,
                )
            )
            return _finish(result, text, path, store, args, out)
    except KeyboardInterrupt:
        out.end_progress()
        out.error("interrupted: the run and its workers were stopped", code="interrupted")
        return EXIT_INTERRUPTED


async def _drive(
    site: Site,
    text: str,
    path: Path,
    provider: Provider,
    budget: Budget,
    store: Store,
    device: str,
    cluster: str,
    out: Output,
    allow_unconfined: bool,
    timeout: float | None,
) -> OptimizeResult | None:
    view = Progress(out, budget)
    result: OptimizeResult | None = None
    ticker = asyncio.ensure_future(view.tick())
    try:
        out.progress(
            f"optimize {path.name}:{site.name}: starting workers on {device}{cluster_label(cluster)}…"
        )
        config = worker_config(allow_unconfined=allow_unconfined, readable=(path.resolve().parent,))
        async with make_pool(cluster, device, config) as pool:
            async for event in optimize(
                site, text, str(path.resolve()), provider, budget, pool, store, device=device, timeout=timeout
            ):
                view.show(event)
                if isinstance(event, Done):
                    result = event.result
    except (KernelwrightError, ProviderError) as exc:
        out.end_progress()
        out.error(str(exc), code="engine")
        return None
    finally:
        ticker.cancel()
        await provider.close()
    out.end_progress()
    return result


class Progress:
    """Events to people (a live line and a line per verdict) or to scripts (JSON lines)."""

    # Without a terminal (a log, CI), how often a plain line says what is still being evaluated.
    HEARTBEAT_S = 30.0

    def __init__(self, out: Output, budget: Budget) -> None:
        self.out = out
        self.budget = budget
        self.round = 0
        self.evaluated = 0
        self.best: float | None = None
        self.evaluating: dict[str, float] = {}  # candidate id -> when it was handed to the pool
        self.header_shown = False
        self.last_beat = time.monotonic()

    def show(self, event: Event) -> None:
        out = self.out
        if isinstance(event, CandidateProposed):
            self.evaluating[event.candidate.id] = time.monotonic()
        elif isinstance(event, VerdictReady):
            self.evaluating.pop(event.candidate_id, None)
        if out.json_mode:
            data = event_json(event)
            if isinstance(event, Done) and isinstance(data, dict):
                result = data.get("result")
                if isinstance(result, dict):
                    result.pop("new_file_text", None)
                    best = result.get("best_candidate")
                    if isinstance(best, dict):
                        best.pop("source", None)
                        best.pop("file_text", None)
            out.json_line(data)
            return
        if isinstance(event, RoundStarted):
            self.round = event.round
        elif isinstance(event, VerdictReady):
            self.evaluated += 1
            out.end_progress()
            if not self.header_shown:
                self.header_shown = True
                out.line(out.style(VERDICT_HEADER, "2"))
            out.line(_verdict_line(event, out))
        elif isinstance(event, NewBest):
            self.best = event.speedup
        elif isinstance(event, BudgetSpent | Note):
            out.end_progress()
            out.line(out.style(event.message, "2"))
        elif isinstance(event, Error):
            out.end_progress()
            out.error(event.message, code=event.stage)
        self.render()

    def render(self) -> None:
        self.out.progress(self.text())

    def text(self) -> str:
        best = f"best {self.best:.2f}x" if self.best else "no speedup yet"
        line = f"round {self.round}/{self.budget.rounds} · {self.evaluated} evaluated · {best}"
        if self.evaluating:
            waited = time.monotonic() - min(self.evaluating.values())
            line += (
                f" · evaluating {', '.join(self.evaluating)} for {waited:.0f} s"
                " (a cold torch.compile or CUDA build can take minutes on a busy machine)"
            )
        return line

    async def tick(self) -> None:
        """Keep the live line's seconds moving while candidates compile; a log gets a line now and then."""
        while True:
            await asyncio.sleep(1.0)
            self.render()
            now = time.monotonic()
            if self.evaluating and now - self.last_beat >= self.HEARTBEAT_S:
                self.last_beat = now
                self.out.log_line(self.text())


VERDICT_HEADER = (
    f"  {'candidate':<40} {'verdict':<20} {'its time':>10}  {'original':>10}  speedup [95% interval]"
    "   (both times from the candidate's own interleaved run)"
)


def _verdict_line(event: VerdictReady, out: Output) -> str:
    verdict = event.verdict
    if event.cut_off is not None:
        status = out.style("not finished", "33")
    elif verdict is None:
        status = out.style("no code", "31")
    elif verdict.passed:
        status = out.style("baseline" if event.is_baseline else "passed", "32")
    else:
        status = out.style(f"rejected ({verdict.check.value if verdict.check else '?'})", "31")
    # Pad by the visible width: the colour codes take no room.
    status += " " * max(0, 20 - _visible_len(status))
    own = format_us(event.median_us) if event.median_us is not None else ""
    ref = format_us(event.reference_us) if event.reference_us is not None else ""
    speed = f"{event.speedup:.2f}x" if event.speedup is not None else ""
    if event.speedup_low is not None and event.speedup_high is not None:
        speed += f" [{event.speedup_low:.2f}-{event.speedup_high:.2f}]"
    if event.is_baseline and event.speedup is not None:
        detail = "  the original against itself: what timing noise looks like"
    elif verdict is not None and verdict.passed:
        detail = ""
    else:
        detail = "  " + event.message.splitlines()[0][:120]
    return f"  {event.candidate_id:<40} {status} {own:>10}  {ref:>10}  {speed}{detail}".rstrip()


def _visible_len(text: str) -> int:
    return len(re.sub(r"\x1b\[[0-9;]*m", "", text))


def _diff(original: str, result: OptimizeResult, path: Path) -> str:
    if result.new_file_text is None:
        return ""
    return "".join(
        difflib.unified_diff(
            original.splitlines(keepends=True),
            result.new_file_text.splitlines(keepends=True),
            fromfile=str(path),
            tofile=f"{path} (optimized)",
        )
    )


def summary_rows(result: OptimizeResult) -> list[list[str]]:
    """The result screen's rows. Each figure says which run it comes from, so they can be checked
    against each other: the best's speedup is its time against the original's in that same run."""
    ref_times = [a.reference_us for a in result.attempts if a.reference_us is not None]
    runs = ""
    if len(ref_times) > 1:
        runs = f"; in the {len(ref_times)} runs {format_us(min(ref_times))} - {format_us(max(ref_times))}"
    best = result.best_candidate
    if best is not None and result.best_reference_us is not None:
        original = f"{format_us(result.best_reference_us)} (timed in {best.id}'s run{runs})"
    elif ref_times:
        original = f"{format_us(statistics.median(ref_times))} (median of the runs{runs})"
    else:
        original = "not timed"
    rows = [["status", result.status.value], ["original", original]]
    if best is not None and result.best_us is not None and result.best_speedup is not None:
        interval = ""
        if result.best_speedup_low is not None and result.best_speedup_high is not None:
            interval = f" [{result.best_speedup_low:.2f}-{result.best_speedup_high:.2f}]"
        rows.append(
            [
                "best",
                f"{best.id}: {format_us(result.best_us)}, {result.best_speedup:.2f}x{interval} the original "
                "in the same run",
            ]
        )
    else:
        rows.append(["best", "—"])
    if result.stop_message:
        rows.append(["stopped by", result.stop_message])
    if result.cut_off:
        rows.append(["no verdict", f"{', '.join(result.cut_off)} (cut off by the safety time limit)"])
    rows += [
        ["rounds / candidates", f"{result.rounds} / {result.candidates}"],
        ["time", f"{result.seconds:.0f} s"],
        ["device", result.device],
    ]
    return rows


def _finish(
    result: OptimizeResult | None, text: str, path: Path, store: Store, args: argparse.Namespace, out: Output
) -> int:
    if result is None:
        return EXIT_FAILED
    if args.report:
        Path(args.report).write_text(render_report(result, text), encoding="utf-8")
    summary: dict[str, JsonValue] = {}
    code = EXIT_FAILED if result.status is Status.FAILED else EXIT_OK
    if args.apply and result.status is Status.IMPROVED:
        try:
            apply_result(path, result, store)
            summary["applied"] = True
        except ApplyError as exc:
            out.error(str(exc), code="apply")
            summary["applied"] = False
            code = EXIT_FAILED
    if out.json_mode:
        if summary:
            out.json_line({"kind": "applied", **summary, "path": str(path)})
        return code
    out.line()
    rows = summary_rows(result)
    if result.usage.requests:
        rows.append(["tokens / cost", f"{result.usage.total_tokens} / ${result.usage.cost_usd:.4f}"])
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        out.line(f"{out.style(label.ljust(width), '1')}  {value}")
    if result.status is not Status.FAILED:  # a failure's reason was printed as its error, as it happened
        out.line()
        out.line(result.message)
    diff = _diff(text, result, path)
    if diff and not summary.get("applied"):
        out.line()
        out.line(diff.rstrip("\n"))
        out.line()
        out.line(f"apply it with: kernelwright optimize {args.target} --apply (or edit by hand)")
    elif summary.get("applied"):
        out.line(f"wrote {path}; `kernelwright undo {path}` restores the original")
    if args.report:
        out.line(f"report: {args.report}")
    return code
