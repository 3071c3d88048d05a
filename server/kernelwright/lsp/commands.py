"""workspace/executeCommand: profile, optimize, cancel, history, clear, and re-offering a result.

Arguments are `{"uri": DOCUMENT_URI, "site": SITE_NAME}` (what lenses and code actions send). A bad
argument is answered with an InvalidParams error that says what was expected.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from kernelwright.core.jsonable import JsonValue, to_json
from kernelwright.core.measure import TimingMethod
from kernelwright.core.site import Site
from kernelwright.core.text import format_us
from kernelwright.lsp.app import KernelwrightServer
from kernelwright.lsp.command_ids import CommandId, SiteRef
from kernelwright.lsp.documents import OpenDocument, uri_to_path
from kernelwright.lsp.present import short_device
from kernelwright.lsp.profile import refresh, start_profile
from kernelwright.lsp.results import SiteKey

HEAVY_MODULES = ("torch", "triton")


def _site(ls: KernelwrightServer, args: tuple[Any, ...]) -> tuple[OpenDocument, Site]:
    try:
        ref = SiteRef.from_arguments(args)
    except ValueError as exc:
        raise JsonRpcInvalidParams(str(exc)) from None
    doc = ls.session.documents.get(ref.uri)
    if doc is None:
        raise JsonRpcInvalidParams(f"{ref.uri} is neither open nor a readable file")
    site = doc.site(ref.name)
    if site is None:
        names = ", ".join(s.name for s in doc.result.sites) or "none"
        raise JsonRpcInvalidParams(f"no site named {ref.name!r} in {doc.path.name} (sites: {names})")
    return doc, site


def profile(ls: KernelwrightServer, args: tuple[Any, ...]) -> JsonValue:
    doc, site = _site(ls, args)
    key = start_profile(ls, doc, site)
    return {"started": key is not None, "site": key.name if key else site.name}


def cancel(ls: KernelwrightServer, args: tuple[Any, ...]) -> JsonValue:
    if not args:
        running = ls.session.jobs.running()
        ls.session.jobs.cancel_all()
        return {"cancelled": len(running)}
    doc, site = _site(ls, args)
    return {"cancelled": int(ls.session.jobs.cancel(SiteKey(doc.path, site.name)))}


def show_history(ls: KernelwrightServer, args: tuple[Any, ...]) -> JsonValue:
    """A site's stored measurements and optimize runs, newest first (a client's history view draws them);
    to a client without such a view, also a message with the last few."""
    doc, site = _site(ls, args)
    key = SiteKey(doc.path, site.name)
    history = ls.session.stores.history(key)
    measurements: list[JsonValue] = []
    for stored in history:
        m = stored.measurement
        measurements.append(
            {
                "created_at": m.created_at,
                "median_us": m.timing.median_us,
                "p10_us": m.timing.p10_us,
                "p90_us": m.timing.p90_us,
                "repeats": m.timing.repeats,
                "timed": m.timing.method is not TimingMethod.NOT_TIMED,
                "device": m.device.label,
                "roofline_fraction": m.roofline.fraction if m.roofline else None,
                "source_hash": m.source_hash,
            }
        )
    attempts = [to_json(a) for a in ls.session.stores.attempts(key)]  # store.AttemptRecord's fields
    if not ls.session.support.history_view:
        if history:
            lines = [
                f"{format_us(s.measurement.timing.median_us)} on {short_device(s.measurement.device)}"
                for s in history[:5]
            ]
            ls.tell(
                f"{site.name}: {len(history)} measurements, newest first: " + "; ".join(lines),
                types.MessageType.Info,
            )
        else:
            ls.tell(f"{site.name} has no stored measurements yet.", types.MessageType.Info)
    return {"site": site.name, "uri": doc.uri, "measurements": measurements, "attempts": attempts}


def clear_results(ls: KernelwrightServer, args: tuple[Any, ...]) -> JsonValue:
    """Forget results: of one file (`{"uri": ...}`) or of every root."""
    path = None
    if args and isinstance(args[0], dict) and isinstance(args[0].get("uri"), str):
        path = uri_to_path(args[0]["uri"])
    if path is None:
        ls.session.jobs.cancel_all()
    else:
        ls.session.jobs.cancel_path(path)
    in_memory = ls.session.results.clear(path)
    stored = ls.session.stores.forget(path)
    refresh(ls, path)
    return {"cleared": in_memory, "stored": stored}


def debug_state(ls: KernelwrightServer, args: tuple[Any, ...]) -> JsonValue:
    """Proof for tests that this process stays light: which heavy modules are loaded (none should be)."""
    return {
        "pid": os.getpid(),
        "loaded": [m for m in HEAVY_MODULES if m in sys.modules],
        "workers": list(ls.session.engine.worker_pids()),
        "watching": ls.session.watcher is not None,
        "jobs": [
            {"site": j.key.name, "kind": j.kind.value, "label": j.label} for j in ls.session.jobs.running()
        ],
        "confinement": _confinement(),
    }


def _confinement() -> JsonValue:
    """Whether candidates run in the box here (engine.confinement), why not and the fix."""
    from kernelwright.engine.confinement import support

    return to_json(support())


def _result_argument(args: tuple[Any, ...]) -> tuple[str, int | None]:
    """`RESULT_ID`, or `{"id": RESULT_ID, "version": N}` (the document version its diff was shown at)."""
    first = args[0] if len(args) == 1 else None
    if isinstance(first, str):
        return first, None
    if isinstance(first, dict) and isinstance(first.get("id"), str):
        version = first.get("version")
        if version is None or (isinstance(version, int) and not isinstance(version, bool)):
            return first["id"], version
    raise JsonRpcInvalidParams(
        "expected one argument: the result id from the message that offered it, or "
        f"{{'id': RESULT_ID, 'version': DOCUMENT_VERSION}}; got {list(args)!r}"
    )


def register(server: KernelwrightServer) -> None:
    @server.command(CommandId.PROFILE)
    def _profile(ls: KernelwrightServer, *args: Any) -> JsonValue:
        return profile(ls, args)

    @server.command(CommandId.OPTIMIZE)
    def _optimize(ls: KernelwrightServer, *args: Any) -> JsonValue:
        from kernelwright.lsp import optimize_run  # on first use: start-up does not load the optimizer

        doc, site = _site(ls, args)
        return optimize_run.start(ls, doc, site.name)

    @server.command(CommandId.CANCEL)
    def _cancel(ls: KernelwrightServer, *args: Any) -> JsonValue:
        return cancel(ls, args)

    @server.command(CommandId.SHOW_HISTORY)
    def _history(ls: KernelwrightServer, *args: Any) -> JsonValue:
        return show_history(ls, args)

    @server.command(CommandId.CLEAR_RESULTS)
    def _clear(ls: KernelwrightServer, *args: Any) -> JsonValue:
        return clear_results(ls, args)

    @server.command(CommandId.APPLY_RESULT)
    async def _apply(ls: KernelwrightServer, *args: Any) -> JsonValue:
        result_id, version = _result_argument(args)
        from kernelwright.lsp import optimize_run

        return await optimize_run.apply_pending(ls, result_id, version)

    @server.command(CommandId.REVIEW_RESULT)
    def _review(ls: KernelwrightServer, *args: Any) -> JsonValue:
        from kernelwright.lsp import optimize_run

        return optimize_run.review(ls, _result_argument(args)[0])

    @server.command(CommandId.DISCARD_RESULT)
    def _discard(ls: KernelwrightServer, *args: Any) -> JsonValue:
        from kernelwright.lsp import optimize_run

        return optimize_run.discard(ls, _result_argument(args)[0])

    @server.command(CommandId.DEBUG_STATE)
    def _debug(ls: KernelwrightServer, *args: Any) -> JsonValue:
        return debug_state(ls, args)
