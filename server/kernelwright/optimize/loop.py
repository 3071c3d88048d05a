"""propose -> verify -> measure -> feedback, round after round, until the budget is spent.

`optimize(...)` is an async generator of typed events. Candidates of a round are verified and timed in
parallel on the worker pool (each in a fresh worker; the pool spreads them over devices). The original
code is always evaluated as a baseline candidate in round 1 (docs/PITFALLS.md 18), and a candidate's
speedup is the judge's estimate: the reference and the candidate timed interleaved in one run, with a 95%
interval (harness.interleave); a candidate becomes the best only when its whole interval clears
`min_speedup` (docs/PITFALLS.md 26). Closing the generator or cancelling the task that drives it cancels
the jobs in flight, which kills their workers at once.

Why one module: optimize() is one async generator whose rounds, budget checks and cancellation share its
local state; what stands alone is already in optimize/evaluation.py and optimize/progress.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from kernelwright.core.candidate import Candidate
from kernelwright.core.jobs import site_problem
from kernelwright.core.measure import (
    Calibration,
    Verdict,
    content_key,
)
from kernelwright.core.protocol import ErrorCode
from kernelwright.core.site import ModuleSpec, Site
from kernelwright.core.text import format_us, range_offsets
from kernelwright.core.waiting import within
from kernelwright.engine.backends import EnginePool
from kernelwright.engine.job_error import JobError
from kernelwright.optimize import evaluation
from kernelwright.optimize.budget import Budget, BudgetAxis, Spent
from kernelwright.optimize.edit import EditError, plan_edit
from kernelwright.optimize.evaluation import Evaluator, PoolEvaluator, reference_failure, unboxed_refusal
from kernelwright.optimize.events import (
    CandidateProposed,
    Done,
    Error,
    Event,
    Note,
    OptimizeResult,
    RoundStarted,
    Status,
)
from kernelwright.optimize.progress import Progress, Stop
from kernelwright.optimize.providers.base import Provider, ProviderError
from kernelwright.optimize.request import DeviceFacts, Proposal, ProposalRequest
from kernelwright.store import AttemptRecord, AttemptStatus, Store

# A candidate must beat the original by this much to become an edit: timing noise on a quiet GPU is a
# few percent, and an edit that is not clearly faster is churn.
MIN_SPEEDUP = 1.03


def expected_symbol(site: Site) -> str:
    return site.spec.candidate if isinstance(site.spec, ModuleSpec) else site.name


def site_text(file_text: str, site: Site) -> str:
    start, end = range_offsets(file_text, site.range)
    return file_text[start:end]


def _baseline(site: Site, file_text: str, provider: Provider) -> Candidate:
    """The original code as a candidate: it must pass, and its speedup (about 1.0) shows the noise."""
    source = file_text
    if isinstance(site.spec, ModuleSpec):
        source = file_text.rstrip("\n") + f"\n\n\n{site.spec.candidate} = {site.name}\n"
    return Candidate(
        id="r1-original",
        source=source,
        symbol=expected_symbol(site),
        provider=provider.name,
        round=1,
        rationale="the original code, measured as a baseline",
        is_baseline=True,
    )


def _batch(proposal: Proposal, baseline: Candidate | None, wanted: int, seen: set[str]) -> list[Candidate]:
    """The round's candidates to evaluate: the original first in round 1, then the proposal's new
    sources (one of each), at most `wanted` of them. Marks them seen."""
    batch: list[Candidate] = [baseline] if baseline is not None else []
    for cand in proposal.candidates:
        if cand.source_hash in seen or len(batch) >= wanted + (1 if baseline is not None else 0):
            continue
        seen.add(cand.source_hash)
        batch.append(cand)
    seen.update(c.source_hash for c in batch)
    return batch


async def optimize(
    site: Site,
    file_text: str,
    path: str,
    provider: Provider,
    budget: Budget,
    pool: EnginePool | None,
    store: Store | None,
    *,
    device: str = "auto",
    evaluator: Evaluator | None = None,
    device_facts: DeviceFacts | None = None,
    calibration: Calibration | None = None,
    min_speedup: float = MIN_SPEEDUP,
    timeout: float | None = None,
) -> AsyncIterator[Event]:
    """Search for a faster verified replacement of `site`; the last event is always `Done`.

    `pool` runs the verify jobs unless an `evaluator` is given; `device_facts` (what the prompt says
    about the device) default to what the pool's worker reports. Roofline fractions use `calibration`,
    else the one stored for the device by `kernelwright calibrate`, else the peak table. `timeout` is each
    verify job's (None: the engine's default).
    """
    started = time.monotonic()
    attempt_id = uuid.uuid4().hex[:12]
    original_hash = content_key(file_text)

    def result(status: Status, message: str, **extra: Any) -> Done:
        base = OptimizeResult(status, attempt_id, path, site.name, message, original_hash=original_hash)
        return Done(dataclasses.replace(base, **extra))

    reference = site_problem(path, file_text, site)
    if reference is None:
        message = (
            f"`{site.name}` has no bench spec, so candidates cannot be checked against it; add a "
            "`# kernelwright: bench inputs=NAME` directive above it (or Model/get_inputs for a module)"
        )
        yield Error(message, "setup")
        yield result(Status.FAILED, message)
        return

    if evaluator is None and pool is None:
        raise ValueError("optimize() needs a worker pool or an evaluator")
    refusal = unboxed_refusal(pool, provider) if evaluator is None else None
    if refusal is not None:
        yield Error(refusal, "setup")
        yield result(Status.FAILED, refusal)
        return
    if pool is not None and evaluator is None and not pool.confinement.available:
        yield Note(f"candidates run unconfined: {pool.confinement.reason}")
    # Without facts given, one ping finds the device and its stored calibration, which then rides on
    # every verify job (else engine.client looks it up per job).
    facts = device_facts or DeviceFacts("unknown")
    if pool is not None and device_facts is None:
        facts, calibration = await evaluation.device_facts(pool, device, calibration)
    if evaluator is None:
        assert pool is not None
        evaluator = PoolEvaluator(pool, reference, device, timeout=timeout, calibration=calibration)
    site_source = site_text(file_text, site)
    record = AttemptRecord(
        id=attempt_id,
        path=path,
        symbol=site.name,
        source_hash=content_key(file_text),
        provider=provider.name.value,
        model=provider.model,
        started_at=time.time(),
    )
    if store is not None:
        store.save_attempt(record)

    spent = Spent()
    progress = Progress(min_speedup)
    seen: set[str] = set()
    status: Status | None = None
    message = ""
    pending: dict[asyncio.Future[Verdict], Candidate] = {}
    stop = Stop()
    hard_limit = budget.hard_limit()

    def summary_extra() -> dict[str, Any]:
        return {
            "baseline_us": progress.baseline_us,
            "rounds": spent.rounds,
            "candidates": spent.candidates,
            "seconds": time.monotonic() - started,
            "usage": spent.usage,
            "attempts": tuple(progress.attempts),
            "device": facts.name,
            "stopped_by": stop.axis,
            "stop_message": stop.message,
            "cut_off": tuple(progress.cut_off),
        }

    try:
        round_no = 0
        while True:
            spent = dataclasses.replace(spent, seconds=time.monotonic() - started)
            axis = spent.exhausted(budget)
            if axis is not None:
                yield stop.spent(axis, f"{axis.value} budget spent ({_spent_text(spent, budget, axis)})")
                break
            round_no += 1
            wanted = min(budget.candidates_per_round(), budget.candidates - spent.candidates)
            yield RoundStarted(round_no, wanted)
            best = progress.best
            request = ProposalRequest(
                site=site,
                path=path,
                site_source=site_source,
                file_text=file_text,
                convention=reference.convention,
                expected_symbol=expected_symbol(site),
                device=facts,
                round=round_no,
                count=wanted,
                history=tuple(progress.history),
                baseline_us=progress.baseline_us,
                best_us=best.median_us if best else None,
                best_roofline_fraction=best.fraction if best else None,
                best_source=best.candidate.source if best and best.candidate.file_text is None else None,
            )
            remaining_s = budget.wall_seconds - (time.monotonic() - started)
            try:
                proposal = await within(provider.propose(request), max(1.0, remaining_s))
            except ProviderError as exc:
                yield Error(str(exc), "provider")
                status, message = Status.FAILED, str(exc)
                break
            except TimeoutError:
                yield stop.spent(BudgetAxis.TIME, "time budget spent while the provider was answering")
                break
            spent = dataclasses.replace(spent, usage=spent.usage + proposal.usage)
            for note in proposal.notes:
                yield Note(note)
            if not proposal.candidates and not proposal.rejected:
                message = "; ".join(proposal.notes) or "the provider proposed nothing"
                yield stop.spent(BudgetAxis.EXHAUSTED, f"nothing left to try: {message}")
                break
            for n, reason in enumerate(proposal.rejected, start=1):
                yield progress.no_code(f"r{round_no}-reply-{n}", round_no, reason)
            baseline = _baseline(site, file_text, provider) if round_no == 1 else None
            batch = _batch(proposal, baseline, wanted, seen)
            if not batch:
                spent = dataclasses.replace(spent, rounds=spent.rounds + 1)
                continue
            for cand in batch:
                yield CandidateProposed(cand)
                if store is not None:
                    store.record_candidate(attempt_id, cand)
            pending = {asyncio.ensure_future(evaluator.evaluate(c)): c for c in batch}
            grace_noted = False
            while pending:
                elapsed = time.monotonic() - started
                if elapsed >= budget.wall_seconds and not grace_noted:
                    # The time budget stops new work; what runs is given the time it needs, up to the limit.
                    grace_noted = True
                    running = ", ".join(c.id for c in pending.values())
                    yield Note(
                        f"time budget spent ({elapsed:.0f} of {budget.wall_seconds:.0f} s): no new candidate "
                        f"starts; {running} may finish until the safety limit ({hard_limit:.0f} s)"
                    )
                deadline = budget.wall_seconds if elapsed < budget.wall_seconds else hard_limit
                done, _ = await asyncio.wait(
                    pending, timeout=max(0.0, deadline - elapsed), return_when=asyncio.FIRST_COMPLETED
                )
                if not done and time.monotonic() - started >= hard_limit:
                    cut = list(pending.values())
                    reason = (
                        f"the safety time limit ({hard_limit:.0f} s) was hit while it was being evaluated; "
                        "give candidates more time with --budget time=SECONDS (or limit=SECONDS)"
                    )
                    for cand in cut:
                        yield progress.not_finished(cand, BudgetAxis.LIMIT, reason)
                    yield stop.spent(
                        BudgetAxis.LIMIT,
                        f"safety time limit hit ({hard_limit:.0f} s): cut off {', '.join(c.id for c in cut)} "
                        "before a verdict",
                    )
                    break  # the rest are cancelled below
                for fut in [f for f in pending if f in done]:  # in proposal order: baseline first
                    cand = pending.pop(fut)
                    try:
                        verdict = fut.result()
                    except asyncio.CancelledError:
                        raise
                    except JobError as exc:
                        if exc.code is ErrorCode.UNCONFINED:  # no box on a host: every one would be refused
                            status, message = Status.FAILED, str(exc.message)
                            yield Error(message, "setup")
                            break
                        yield Error(f"evaluating {cand.id} failed: {exc}", "evaluate")
                        continue
                    except Exception as exc:  # a broken worker reply must not end the whole search
                        yield Error(f"evaluating {cand.id} failed: {exc}", "evaluate")
                        continue
                    if store is not None:
                        store.record_verdict(attempt_id, cand.id, verdict)
                        if verdict.reference_measurement is not None and not progress.reference_times:
                            store.record_measurement(path, verdict.reference_measurement)
                    for event in progress.take(cand, verdict):
                        yield event
                    failure = reference_failure(cand, verdict, path)
                    if failure is not None:  # nothing can be checked against a reference that fails
                        status, message = Status.FAILED, failure
                        yield Error(failure, "reference")
                        break
                if status is Status.FAILED:
                    break
            for fut in pending:
                fut.cancel()
            if pending:  # their workers are killed before the run goes on or ends
                await asyncio.gather(*pending, return_exceptions=True)
            pending = {}
            if status is Status.FAILED or stop.axis is BudgetAxis.LIMIT:
                break
            spent = dataclasses.replace(
                spent,
                rounds=spent.rounds + 1,
                candidates=spent.candidates + sum(1 for c in batch if not c.is_baseline),
                seconds=time.monotonic() - started,
            )
            target = budget.target_roofline
            best = progress.best
            if (
                best is not None
                and target is not None
                and best.fraction is not None
                and best.fraction >= target
            ):
                yield stop.spent(
                    BudgetAxis.TARGET,
                    f"the best candidate reached {best.fraction:.0%} of the roofline (target {target:.0%})",
                )
                break
    except (asyncio.CancelledError, GeneratorExit):
        status = Status.CANCELLED
        raise
    finally:
        for fut in pending:
            fut.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if status is Status.CANCELLED and store is not None:
            store.save_attempt(
                dataclasses.replace(
                    record, status=AttemptStatus.CANCELLED, finished_at=time.time(), message="cancelled"
                )
            )

    finish = _finish(site, file_text, path, status, message, progress, facts)
    final = result(finish.status, finish.message, **finish.extra, **summary_extra())
    if finish.error is not None:
        yield Error(finish.error, "edit")
    if store is not None:
        r = final.result
        store.save_attempt(
            dataclasses.replace(
                record,
                status=AttemptStatus.FAILED if r.status is Status.FAILED else AttemptStatus.DONE,
                finished_at=time.time(),
                best_candidate=r.best_candidate.id if r.best_candidate else None,
                best_speedup=r.best_speedup,
                baseline_us=r.baseline_us,
                best_us=r.best_us,
                rounds=r.rounds,
                candidates=r.candidates,
                usage=r.usage,
                message=r.message,
                device=r.device,
                best_rationale=r.best_candidate.rationale if r.best_candidate else "",
            )
        )
    yield final


@dataclasses.dataclass(frozen=True)
class _Finish:
    status: Status
    message: str
    extra: dict[str, Any]
    error: str | None = None


def _finish(
    site: Site,
    file_text: str,
    path: str,
    status: Status | None,
    message: str,
    progress: Progress,
    facts: DeviceFacts,
) -> _Finish:
    best, min_speedup = progress.best, progress.min_speedup
    if status is Status.FAILED:
        return _Finish(status, message, {})
    if best is not None:
        assert site.spec is not None
        try:
            plan = plan_edit(best.candidate, site, file_text, path, site.spec.convention)
        except EditError as exc:
            return _Finish(Status.FAILED, f"the best candidate could not be merged: {exc}", {}, str(exc))
        same_run = f" against the original's {format_us(best.reference_us)}" if best.reference_us else ""
        text = (
            f"{best.candidate.id} is {best.speedup:.2f}x faster than the original "
            f"({format_us(best.median_us)}{same_run} on {facts.name}, timed interleaved in one run)"
        )
        return _Finish(
            Status.IMPROVED,
            text,
            {
                "best_candidate": best.candidate,
                "best_speedup": best.speedup,
                "best_us": best.median_us,
                "best_roofline_fraction": best.fraction,
                "best_reference_us": best.reference_us,
                "best_speedup_low": best.low,
                "best_speedup_high": best.high,
                "edits": plan.edits,
                "new_file_text": plan.new_text,
            },
        )
    if not progress.attempts and message:  # the provider had nothing to try: say why, not "no winner"
        return _Finish(Status.NO_IMPROVEMENT, f"nothing was tried ({message}); the original stays", {})
    if progress.passed_any and not progress.timed_any:
        return _Finish(
            Status.NOT_TIMED,
            f"candidates passed verification but {facts.name} cannot time them "
            "(the Triton interpreter checks correctness only); run on a GPU to compare speed",
            {},
        )
    cut = ""
    if progress.cut_off:
        cut = (
            f"; {len(progress.cut_off)} candidate(s) had no verdict when the time ran out "
            f"({', '.join(progress.cut_off)}): give them more time with --budget time=SECONDS"
        )
    by = f" by {min_speedup - 1:.0%} or more" if min_speedup > 1.0 else ""
    return _Finish(
        Status.NO_IMPROVEMENT,
        f"no verified candidate beat the original{by} (the whole 95% interval of its speedup at or above "
        f"{min_speedup:.2f}x); the original stays{cut}",
        {},
    )


def _spent_text(spent: Spent, budget: Budget, axis: BudgetAxis) -> str:
    if axis is BudgetAxis.ROUNDS:
        return f"{spent.rounds} of {budget.rounds} rounds"
    if axis is BudgetAxis.CANDIDATES:
        return f"{spent.candidates} of {budget.candidates} candidates"
    if axis is BudgetAxis.TIME:
        return f"{spent.seconds:.0f} of {budget.wall_seconds:.0f} s"
    if axis is BudgetAxis.TOKENS:
        return f"{spent.usage.total_tokens} of {budget.tokens} tokens"
    return f"${spent.usage.cost_usd:.2f} of ${budget.cost_usd}"


__all__ = ["Evaluator", "PoolEvaluator", "expected_symbol", "optimize", "site_text"]
