"""Optimize a site in the background, with $/progress and cancel, ending in a guarded workspace/applyEdit.

The result never clobbers the person's text: the edit carries the document version it was anchored
to, is re-anchored when the file changed meanwhile (anchor.py), and is kept (and offered again through
kernelwright.applyResult) when it cannot be placed or the client declines it. A change annotation with
needsConfirmation lets clients that support it show the diff before anything changes.
"""

from __future__ import annotations

import uuid

from lsprotocol import types

from kernelwright.core.jsonable import JsonValue
from kernelwright.core.site import Range
from kernelwright.lsp.anchor import anchor_edit
from kernelwright.lsp.app import KernelwrightServer, PendingResult
from kernelwright.lsp.command_ids import CommandId
from kernelwright.lsp.convert import to_lsp_document_edit
from kernelwright.lsp.documents import text_hash


async def apply_pending(ls: KernelwrightServer, result_id: str) -> JsonValue:
    pending = ls.session.pending_results.get(result_id)
    if pending is None:
        known = ", ".join(ls.session.pending_results) or "none"
        ls.tell(f"kernelwright: no optimize result {result_id!r} is waiting (waiting: {known})")
        return {"applied": False, "reason": "unknown result"}
    return await offer(ls, pending)


async def offer(ls: KernelwrightServer, pending: PendingResult) -> JsonValue:
    """Send the result as a versioned, annotated edit; keep it for another try if it cannot apply."""
    ls.session.pending_results[pending.id] = pending
    doc = ls.session.documents.get(pending.uri)
    site = doc.site(pending.key.name) if doc is not None else None
    place: Range | None = None
    if doc is not None:
        place = anchor_edit(
            doc.text,
            text_hash(doc.text),
            pending.original_hash,
            pending.range,
            pending.old_text,
            site.range if site is not None else None,
        )
    if doc is None or place is None:
        ls.tell(
            f"kernelwright: {pending.summary} for {pending.key.name}, but its code was edited while optimize "
            "ran, so the result was not applied. Run the command kernelwright.applyResult with "
            f"{pending.id!r} after undoing the edit, or optimize again.",
        )
        return {"applied": False, "reason": "site changed", "result": pending.id}
    annotation = None
    if ls.session.support.change_annotations:
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


def start(ls: KernelwrightServer, doc: object, name: str) -> JsonValue:
    ls.tell("kernelwright: optimize is not wired yet (waiting for the optimize loop)")
    return {"started": False}
