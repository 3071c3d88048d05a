"""Optimize a site in the background, with $/progress and cancel, ending in a guarded workspace/applyEdit.

The result never clobbers the person's text: the edit carries the document version it was anchored
to, is re-anchored when the file changed meanwhile (anchor.py), and is kept (and offered again through
kernelwright.applyResult) when it cannot be placed or the client declines it. A change annotation with
needsConfirmation lets clients that support it show the diff before anything changes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from lsprotocol import types

from kernelwright.core.errors import KernelwrightError
from kernelwright.core.jsonable import JsonValue, to_json
from kernelwright.core.measure import content_key
from kernelwright.core.settings import Settings
from kernelwright.core.site import Range
from kernelwright.core.text import format_us, range_offsets
from kernelwright.lsp.anchor import anchor_edit
from kernelwright.lsp.app import KernelwrightServer, PendingResult
from kernelwright.lsp.command_ids import CommandId
from kernelwright.lsp.convert import to_lsp_document_edit
from kernelwright.lsp.documents import OpenDocument
from kernelwright.lsp.profile import runnable_site
from kernelwright.lsp.results import SiteKey
from kernelwright.lsp.site_jobs import JobKind
from kernelwright.lsp.work_done import ProgressReporter
from kernelwright.optimize.budget import Budget
from kernelwright.optimize.edit import spanning_edit
from kernelwright.optimize.events import (
    BudgetSpent,
    Done,
    Error,
    NewBest,
    OptimizeResult,
    RoundStarted,
    Status,
    VerdictReady,
)
from kernelwright.optimize.loop import optimize
from kernelwright.optimize.providers import factory as providers
from kernelwright.optimize.providers.base import Provider, ProviderError

RESULT_READY = "kernelwright/resultReady"  # server -> client: {"id", "site", "uri", "summary"}


def _pending(ls: KernelwrightServer, result_id: str) -> PendingResult | None:
    pending = ls.session.pending_results.get(result_id)
    if pending is None:
        known = ", ".join(ls.session.pending_results) or "none"
        ls.tell(f"kernelwright: no optimize result {result_id!r} is waiting (waiting: {known})")
    return pending


def _place(ls: KernelwrightServer, pending: PendingResult) -> tuple[OpenDocument, Range] | None:
    """Where the result's edit goes in the document as it reads now; None when its code moved on."""
    doc = ls.session.documents.get(pending.uri)
    if doc is None:
        return None
    site = doc.site(pending.key.name)
    place = anchor_edit(
        doc.text,
        content_key(doc.text),
        pending.original_hash,
        pending.range,
        pending.old_text,
        site.range if site is not None else None,
    )
    return (doc, place) if place is not None else None


def _moved_on(ls: KernelwrightServer, pending: PendingResult) -> JsonValue:
    ls.tell(
        f"kernelwright: {pending.summary} for {pending.key.name}, but its code was edited while optimize "
        "ran, so the result was not applied. Run the command kernelwright.applyResult with "
        f"{pending.id!r} after undoing the edit, or optimize again.",
    )
    return {"applied": False, "reason": "site changed", "result": pending.id}


def review(ls: KernelwrightServer, result_id: str) -> JsonValue:
    """The result as a client shows it for review: the file as it would read, against which version."""
    pending = _pending(ls, result_id)
    if pending is None:
        return {"found": False, "reason": "unknown result"}
    placed = _place(ls, pending)
    if placed is None:
        return {"found": True, "result": pending.id, "site": pending.key.name, "placed": False}
    doc, place = placed
    start, end = range_offsets(doc.text, place)
    return {
        "found": True,
        "placed": True,
        "result": pending.id,
        "site": pending.key.name,
        "uri": doc.uri,
        "version": doc.version if ls.session.documents.is_open(doc.path) else None,
        "range": to_json(place),
        "newText": pending.new_text,
        "proposedText": doc.text[:start] + pending.new_text + doc.text[end:],
        "summary": pending.summary,
        "speedup": pending.speedup,
        "baselineUs": pending.baseline_us,
        "bestUs": pending.best_us,
        "device": pending.device,
        "rooflineFraction": pending.roofline_fraction,
    }


def discard(ls: KernelwrightServer, result_id: str) -> JsonValue:
    """Reject: the result is dropped and nothing in the file changes."""
    pending = ls.session.pending_results.pop(result_id, None)
    if pending is not None:
        ls.log(f"optimize result for {pending.key.name} rejected ({pending.summary}); the file is unchanged")
    return {"discarded": pending is not None, "result": result_id}


async def apply_pending(
    ls: KernelwrightServer, result_id: str, reviewed_version: int | None = None
) -> JsonValue:
    """Apply a waiting result. `reviewed_version`: the document version its diff was shown against; a
    document edited since then is refused (the person accepted a diff that no longer stands)."""
    pending = _pending(ls, result_id)
    if pending is None:
        return {"applied": False, "reason": "unknown result"}
    if reviewed_version is not None:
        doc = ls.session.documents.get(pending.uri)
        if doc is not None and doc.version != reviewed_version:
            # Logged, not shown: the reviewing client words the refusal and offers to review again.
            ls.log(
                f"{doc.path.name} changed after the diff for {pending.key.name} was shown (version "
                f"{reviewed_version}, now {doc.version}), so nothing was applied",
            )
            return {"applied": False, "reason": "changed since review", "result": pending.id}
    return await offer(ls, pending, reviewed=reviewed_version is not None)


async def offer(ls: KernelwrightServer, pending: PendingResult, reviewed: bool = False) -> JsonValue:
    """Send the result as a versioned edit; keep it for another try if it cannot apply.

    Not yet reviewed, the edit carries a change annotation that asks the client to confirm (clients that
    support it show the diff first); a result the person accepted in the client's own diff goes as is.
    """
    ls.session.pending_results[pending.id] = pending
    placed = _place(ls, pending)
    if placed is None:
        return _moved_on(ls, pending)
    doc, place = placed
    annotation = None
    if ls.session.support.change_annotations and not reviewed:
        annotation = types.ChangeAnnotation(
            label=f"kernelwright: optimized {pending.key.name}",
            needs_confirmation=True,
            description=pending.summary,
        )
    version = doc.version if ls.session.documents.is_open(doc.path) else None
    edit = to_lsp_document_edit(doc.uri, version, place, pending.new_text, annotation)
    try:
        answer = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=f"Optimize {pending.key.name}")
        )
    except Exception as exc:  # a client without applyEdit: keep the result for the command
        ls.log(f"workspace/applyEdit failed: {exc}", types.MessageType.Error)
        return {"applied": False, "reason": str(exc), "result": pending.id}
    if answer.applied:
        ls.session.pending_results.pop(pending.id, None)
        ls.tell(f"kernelwright: applied {pending.summary} to {pending.key.name}", types.MessageType.Info)
        return {"applied": True, "result": pending.id}
    reason = answer.failure_reason or "declined"
    ls.tell(
        f"kernelwright: the edit for {pending.key.name} was not applied ({reason}); run "
        f"{CommandId.APPLY_RESULT} with {pending.id!r} to offer it again.",
        types.MessageType.Info,
    )
    return {"applied": False, "reason": reason, "result": pending.id}


def new_result_id() -> str:
    return uuid.uuid4().hex[:12]


def start(ls: KernelwrightServer, doc: OpenDocument, name: str) -> JsonValue:
    """Start optimizing a site in the background; the answer says whether it started."""
    site = doc.site(name)
    target = runnable_site(doc, site) if site is not None else None
    if target is None or target.spec is None:
        ls.tell(
            f"kernelwright: {name} has no bench spec, so candidates cannot be checked against it. Hover its "
            "name for the directive to add.",
            types.MessageType.Info,
        )
        return {"started": False, "reason": "no spec"}
    key = SiteKey(doc.path, target.name)
    running = ls.session.jobs.get(key)
    if running is not None and running.kind is JobKind.OPTIMIZE:
        ls.tell(f"kernelwright: {target.name} is already being optimized", types.MessageType.Info)
        return {"started": False, "reason": "already optimizing"}
    job = ls.session.jobs.start(key, JobKind.OPTIMIZE, run(ls, doc.uri, target.name))
    return {"started": job is not None, "site": target.name}


def make_provider(settings: Settings) -> Provider:
    """The provider the settings name. API keys come from the environment, never from settings."""
    return providers.make_provider(settings.provider, settings.model, settings.base_url)


async def run(ls: KernelwrightServer, uri: str, name: str) -> None:
    doc = ls.session.documents.get(uri)
    site = doc.site(name) if doc is not None else None
    if doc is None or site is None:
        return
    key = SiteKey(doc.path, name)
    settings = ls.session.settings
    file_text = doc.text  # the snapshot optimized: edits are computed against it
    budget = Budget.from_settings(settings.budgets)
    progress = ProgressReporter(ls, key, f"Optimizing {name}")
    rounds = f"{budget.rounds} round" + ("" if budget.rounds == 1 else "s")
    await progress.begin(f"{settings.provider.value} provider, up to {rounds}")
    result: OptimizeResult | None = None
    tally = ProgressTally(budget.rounds)
    try:
        provider = make_provider(settings)
    except (ProviderError, ImportError) as exc:
        progress.end(f"not started: {exc}")
        ls.tell(f"kernelwright: cannot optimize {name}: {exc}", types.MessageType.Error)
        return
    try:
        pool = await ls.session.engine.pool(settings)
        store = ls.session.stores.for_path(doc.path)
        device = settings.device
        events = optimize(site, file_text, str(doc.path), provider, budget, pool, store, device=device)
        try:
            async for event in events:
                message = tally.update(event)
                if message is not None:
                    ls.session.jobs.set_label(key, f"optimizing: {message}")
                    progress.report(message, tally.percent())
                if isinstance(event, Error):
                    ls.log(f"optimize {name}: {event.stage}: {event.message}", types.MessageType.Warning)
                if isinstance(event, Done):
                    result = event.result
        finally:
            # Closing the generator cancels its jobs in flight, which kills their workers.
            if isinstance(events, AsyncGenerator):
                await events.aclose()
    except asyncio.CancelledError:
        progress.end("cancelled")
        ls.log(f"optimize of {name} cancelled; its workers were stopped")
        raise
    except KernelwrightError as exc:
        progress.end(f"failed: {exc}")
        ls.tell(f"kernelwright: optimize of {name} failed: {exc}", types.MessageType.Error)
        return
    finally:
        await provider.close()
    if result is None:
        progress.end("ended without a result")
        return
    progress.end(result.message)
    await _conclude(ls, key, uri, file_text, result)


async def _conclude(
    ls: KernelwrightServer, key: SiteKey, uri: str, file_text: str, result: OptimizeResult
) -> None:
    if result.status is not Status.IMPROVED or not result.edits or result.new_file_text is None:
        ls.tell(f"kernelwright: optimize {key.name}: {result.message}", types.MessageType.Info)
        return
    span, old_text, new_text = spanning_edit(file_text, result.new_file_text, result.edits)
    summary = f"{result.best_speedup:.2f}x faster" if result.best_speedup else "faster"
    if result.baseline_us is not None and result.best_us is not None:
        summary += f" ({format_us(result.baseline_us)} -> {format_us(result.best_us)} on {result.device})"
    pending = PendingResult(
        id=new_result_id(),
        key=key,
        uri=uri,
        original_hash=result.original_hash,
        range=span,
        old_text=old_text,
        new_text=new_text,
        summary=summary,
        speedup=result.best_speedup,
        baseline_us=result.baseline_us,
        best_us=result.best_us,
        device=result.device,
        roofline_fraction=result.best_roofline_fraction,
    )
    if ls.session.support.review_results:
        # The client shows the diff (kernelwright.reviewResult) and answers Accept or Reject.
        ls.session.pending_results[pending.id] = pending
        ls.protocol.notify(RESULT_READY, {"id": pending.id, "site": key.name, "uri": uri, "summary": summary})
        return
    await offer(ls, pending)


@dataclass
class ProgressTally:
    """What an optimize run's progress line says: the round, candidates passed of those tried (the
    unchanged original not counted), and the best verified speedup so far."""

    rounds: int
    round: int = 0
    tried: int = 0
    passed: int = 0
    best: float | None = None

    def update(self, event: object) -> str | None:
        """The new progress line after `event`, or None when it changes nothing shown."""
        if isinstance(event, RoundStarted):
            self.round = event.round
        elif isinstance(event, VerdictReady):
            if event.is_baseline:
                return None
            self.tried += 1
            self.passed += int(event.verdict is not None and event.verdict.passed)
        elif isinstance(event, NewBest):
            self.best = event.speedup
        elif isinstance(event, BudgetSpent):
            return f"{self.line()} · {event.message}"
        else:
            return None
        return self.line()

    def line(self) -> str:
        parts = [f"round {self.round}/{self.rounds}"]
        if self.tried == 0:
            parts.append("waiting for the first candidate's verdict")
        else:
            parts.append(f"{self.passed} of {self.tried} candidates passed")
            parts.append(f"best {self.best:.2f}x" if self.best is not None else "no verified speedup yet")
        return " · ".join(parts)

    def percent(self) -> int:
        return min(99, int(100 * max(0, self.round - 1) / max(1, self.rounds)))
