"""What the verbs share: the site a FILE[:SYMBOL] names (`load_site`, `load_problem`), the device,
cluster, timeout and unconfined options, the worker config, running a coroutine on a pool
(`run_on_pool`), printing a measurement's rows, and reporting engine work that stopped early
(`report_stopped`).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kernelwright.analysis import analyze
from kernelwright.analysis.rules import RuleId
from kernelwright.cli.output import EXIT_FAILED, EXIT_USAGE, Output
from kernelwright.core.errors import KernelwrightError, SpecError, UsageError
from kernelwright.core.jobs import JobType, ProblemRef, site_problem
from kernelwright.core.measure import Baseline, BaselineKind, DeviceKind, Measurement, TimingMethod
from kernelwright.core.protocol import ErrorCode
from kernelwright.core.site import AnalysisResult, Site
from kernelwright.core.sourcefile import NotSource, decode_source, not_text, read_source_file
from kernelwright.core.text import format_us
from kernelwright.engine.backends import Backend, EnginePool, make_pool, parse_cluster
from kernelwright.engine.config import DEFAULT_TIMEOUTS, WorkerConfig
from kernelwright.engine.job_error import JobError

EXIT_INTERRUPTED = 130


# The setting behind --cluster for scripts and CI, where a flag on every command is a chore.
CLUSTER_ENV = "KERNELWRIGHT_CLUSTER"


T = TypeVar("T")


SPEC_HELP = (
    "add a bench directive above it, e.g. `# kernelwright: bench inputs=make_inputs` where make_inputs() "
    "returns the argument tuple (Python), or `// kernelwright: bench n=1024 x=randn(n) grid=... block=...` "
    "(CUDA); or give the file a KernelBench `Model` with `get_inputs()`"
)


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N")


def add_cluster_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cluster",
        default=None,
        help=(
            "where the workers run: auto (default: Ray when RAY_ADDRESS names a cluster, else local), "
            f"local, ray, or ray://HOST:PORT; the {CLUSTER_ENV} environment variable sets the default"
        ),
    )


def cluster_of(args: argparse.Namespace) -> str:
    """The --cluster flag, else the KERNELWRIGHT_CLUSTER setting, else auto; UsageError if unknown."""
    cluster: str = args.cluster or os.environ.get(CLUSTER_ENV) or "auto"
    parse_cluster(cluster)  # fail before any worker starts, with the accepted forms in the message
    return cluster


def cluster_label(cluster: str) -> str:
    """How the progress line names the backend: nothing for local workers."""
    choice = parse_cluster(cluster)
    if choice.backend is Backend.LOCAL:
        return ""
    return f" (Ray at {choice.address})" if choice.address else " (Ray)"


def add_timeout_argument(parser: argparse.ArgumentParser, job_type: JobType) -> None:
    default = DEFAULT_TIMEOUTS[job_type]
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=None,
        help=f"seconds before a {job_type} job and its worker are killed (default {default:.0f} s)",
    )


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (the message names what was given)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def positive_seconds(text: str) -> float:
    """argparse type: seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, not {text}")
    return value


def split_target(target: str) -> tuple[Path, str | None]:
    """`path/to/file.py:Symbol` -> (path, "Symbol"); a colon that is part of an existing path stays."""
    path, sep, symbol = target.rpartition(":")
    if sep and symbol.isidentifier() and not Path(target).exists():
        return Path(path), symbol
    return Path(target), None


def read_source(path: Path, what: str) -> str:
    """The text of a file named on the command line; UsageError naming the cause and the fix."""
    if path.is_dir():
        raise UsageError(f"{what} {path}: is a directory; name a .py or .cu file in it")
    if not path.exists():
        raise UsageError(f"{what} {path}: no such file")
    data = read_source_file(path)
    if isinstance(data, NotSource):
        raise UsageError(f"{what} {path}: {data.reason}; {data.fix}")
    reason = not_text(data)
    if reason is not None:
        raise UsageError(f"{what} {path}: {reason}; name a Python or CUDA source file")
    return decode_source(data)


@dataclass(frozen=True)
class LoadedSite:
    path: Path  # as the person wrote it
    source: str
    site: Site
    problems: str = ""  # the file's directive and syntax errors (directive_problems), if any


def load_site(target: str) -> LoadedSite:
    """The file FILE[:SYMBOL] names, its text and the site it means; UsageError/SpecError if none."""
    path, symbol = split_target(target)
    source = read_source(path, "file")
    analysis = analyze(source, str(path))
    problems = directive_problems(analysis, path)
    try:
        return LoadedSite(path, source, pick_site(analysis.sites, symbol, path), problems)
    except KernelwrightError:
        if not problems:
            raise
        raise SpecError(
            f"{path}: no site to run, because of its errors (as `kernelwright scan {path}` lists them); "
            f"fix them and try again:\n{problems}"
        ) from None


def directive_problems(analysis: AnalysisResult, path: Path) -> str:
    """The file's directive and syntax errors as `scan` lists them (KW001, KW002), one per line: why a
    site the person meant to bench was not found."""
    lines = [
        f"{path}:{f.range.start.line + 1}:{f.range.start.character + 1}: {f.rule} {f.name}: {f.message}"
        for f in analysis.findings
        if f.rule in (RuleId.MALFORMED_DIRECTIVE, RuleId.SYNTAX_ERROR)
    ]
    return "\n".join(lines)


def load_problem(target: str) -> ProblemRef:
    """The site FILE[:SYMBOL] names, as a job's ProblemRef. UsageError/SpecError say what to do instead."""
    loaded = load_site(target)
    path, source, site = loaded.path, loaded.source, loaded.site
    problem = site_problem(str(path.resolve()), source, site)
    if problem is None:
        raise SpecError(
            f"{path}:{site.name} has no bench spec, so there is nothing to run it with; {SPEC_HELP}"
            + (f"\n{loaded.problems}" if loaded.problems else "")
        )
    return problem


def pick_site(sites: tuple[Site, ...], symbol: str | None, path: Path) -> Site:
    if symbol is not None:
        for site in sites:
            if site.name == symbol:
                return site
        names = ", ".join(sorted({s.name for s in sites})) or "none"
        raise UsageError(f"{path} has no site named `{symbol}` (sites found: {names})")
    benchable = [s for s in sites if s.spec is not None]
    if len(benchable) == 1:
        return benchable[0]
    if not benchable:
        listed = ", ".join(s.name for s in sites)
        found = f" Its sites ({listed}) have no bench spec:" if sites else " It has no kernels or modules;"
        raise SpecError(f"{path} has nothing to bench.{found} {SPEC_HELP}")
    choices = ", ".join(f"{path}:{s.name}" for s in benchable)
    raise UsageError(f"{path} has several benchable sites; name one: {choices}")


def add_unconfined_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-unconfined",
        action="store_true",
        help=(
            "run a model's (or an unknown file's) candidate even where this machine cannot box it "
            "(no bubblewrap, no user namespaces); off: such a run is refused with the reason"
        ),
    )


def worker_config(*, allow_unconfined: bool = False, readable: tuple[Path, ...] = ()) -> WorkerConfig:
    # The person's code may read files relative to where they run the command, as `python file.py` would;
    # a candidate's box may read the folders of the files named on the command line.
    return WorkerConfig(cwd=Path.cwd(), allow_unconfined=allow_unconfined, readable=readable)


def warn_if_unconfined(out: Output, pool: EnginePool, allowed: bool) -> None:
    """Say at once, before any candidate runs, when this machine cannot box candidates."""
    box = pool.confinement
    if not box.available:
        then = "they run unconfined (--allow-unconfined)" if allowed else "a model's candidate is refused"
        out.warn(f"{box.describe()} ({then})")


def run_on_pool(
    cluster: str,
    device: str,
    work: Callable[[EnginePool], Coroutine[Any, Any, T]],
    *,
    standby: bool = False,
    config: WorkerConfig | None = None,
) -> T:
    """Start the pool `cluster` names on `device`, await `work(pool)`, close the pool, return the result.

    One event loop for the whole run (asyncio.run): Ctrl-C cancels `work`, which kills its worker, and
    the pool closes before KeyboardInterrupt reaches the caller. A single job needs no standby worker.
    """

    async def main() -> T:
        async with make_pool(cluster, device, config or worker_config(), standby=standby) as pool:
            return await work(pool)

    return asyncio.run(main())


async def with_progress(out: Output, text: str, work: Coroutine[Any, Any, T]) -> T:
    """Await `work` while a terminal shows `text` and the seconds spent (nothing without a terminal)."""
    task = asyncio.ensure_future(work)
    start = time.monotonic()
    try:
        while True:
            out.progress(f"{text}… {time.monotonic() - start:.0f} s")
            done, _ = await asyncio.wait([task], timeout=0.5)
            if done:
                return task.result()
    finally:
        task.cancel()  # no-op when done; on Ctrl-C it kills the job's worker
        out.end_progress()


def report_stopped(out: Output, exc: KernelwrightError | KeyboardInterrupt) -> int:
    """Engine work that ended without a result: close the progress line, say why, return the exit code."""
    out.end_progress()
    if isinstance(exc, KeyboardInterrupt):
        out.error("interrupted: the worker was stopped", code="interrupted")
        return EXIT_INTERRUPTED
    return report_engine_error(out, exc)


def report_engine_error(out: Output, exc: KernelwrightError) -> int:
    """UsageError (bad device) and a worker that cannot start are usage errors; the rest a failure."""
    if isinstance(exc, JobError):
        usage = exc.code in (ErrorCode.START_FAILED, ErrorCode.BAD_REQUEST)
        out.error(str(exc), code=str(exc.code))
        return EXIT_USAGE if usage else EXIT_FAILED
    out.error(str(exc), code="usage")
    return EXIT_USAGE


def key_values(out: Output, rows: list[list[str]]) -> None:
    """Two aligned columns, labels dimmed; an empty label continues the row above."""
    width = max((len(k) for k, _ in rows), default=0)
    for key, value in rows:
        out.line(f"  {out.style(key.ljust(width), '2')}  {value}")


BASELINE_LABELS = {BaselineKind.COMPILE: "torch.compile", BaselineKind.EAGER: "eager"}


def _baseline_value(b: Baseline) -> str:
    """A baseline's median and how this code compares with it, in words (ratio > 1: this code is faster)."""
    if b.timing is None:
        return b.error or "not measured"
    value = format_us(b.timing.median_us)
    if b.ratio is None:
        return value
    if b.ratio >= 1.0:
        return f"{value}: this code is {b.ratio:.2f}x faster"
    return f"{value}: this code is {1.0 / b.ratio:.2f}x slower"


def measurement_rows(m: Measurement) -> list[list[str]]:
    t = m.timing
    timed = t.method is not TimingMethod.NOT_TIMED
    rows = [["device", m.device.label]]
    if timed:
        rows += [
            ["median", format_us(t.median_us)],
            ["p10-p90", f"{format_us(t.p10_us)} - {format_us(t.p90_us)} (±{t.spread * 50:.1f}%)"],
            ["repeats", str(t.repeats)],
        ]
    else:
        rows.append(["median", "not timed (correctness only)"])
    if m.roofline is not None:
        r = m.roofline
        rows.append(
            ["roofline", f"{r.fraction:.0%} of the {r.bound} floor ({format_us(r.floor_us)}, {r.source})"]
        )
    for b in m.baselines:
        rows.append([BASELINE_LABELS.get(b.kind, str(b.kind)), _baseline_value(b)])
    rows.append(["problem", m.problem_size])
    notes = list(m.notes)
    if m.device.kind is DeviceKind.CPU and timed:
        notes.insert(0, "CPU timing: not a GPU figure")
    if not timed:
        notes.insert(0, "Triton interpreter: correctness only")
    rows += [["notes" if i == 0 else "", note] for i, note in enumerate(notes)]
    return rows
