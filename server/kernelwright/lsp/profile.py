"""Profile a site: engine.client.profile (a bench, and first a verify against the last version that ran
well when the site's code changed since: SiteRecord.recheck_against), the result into Results (and the
store), then the views refresh."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from kernelwright.core.errors import KernelwrightError
from kernelwright.core.jobs import (
    ProblemRef,
    site_problem,
)
from kernelwright.core.measure import Measurement, content_key
from kernelwright.core.site import Site, SiteKind
from kernelwright.lsp import diagnostics
from kernelwright.lsp.app import KernelwrightServer
from kernelwright.lsp.documents import OpenDocument
from kernelwright.lsp.results import RunFailure, SiteKey
from kernelwright.lsp.site_jobs import JobKind


def runnable_site(doc: OpenDocument, site: Site) -> Site:
    """A bare Triton kernel runs through a launcher that has a spec; anything else runs as itself."""
    if site.kind is SiteKind.TRITON_KERNEL and site.spec is None:
        for name in site.links:
            launcher = doc.site(name)
            if launcher is not None and launcher.spec is not None:
                return launcher
    return site


def problem_of(doc: OpenDocument, site: Site, source: str | None = None) -> ProblemRef:
    problem = site_problem(str(doc.path), source or doc.text, site)
    if problem is None:
        raise KernelwrightError(
            f"{site.name} has no bench spec, so it cannot be run: hover its name for the directive to add"
        )
    return problem


def start_profile(ls: KernelwrightServer, doc: OpenDocument, site: Site) -> SiteKey | None:
    """Queue a profile of `site` in the background (replacing one in flight); None if it cannot run."""
    target = runnable_site(doc, site)
    if target.spec is None:
        ls.tell(
            f"kernelwright: {site.name} has no bench spec, so it cannot be profiled. Hover its name for the "
            "directive to add.",
            types.MessageType.Info,
        )
        return None
    key = SiteKey(doc.path, target.name)
    ls.session.jobs.start(key, JobKind.PROFILE, profile(ls, doc.uri, target.name))
    return key


async def profile(ls: KernelwrightServer, uri: str, name: str) -> None:
    doc = ls.session.documents.get(uri)
    site = doc.site(name) if doc is not None else None
    if doc is None or site is None:
        return
    key = SiteKey(doc.path, site.name)
    settings = ls.session.settings
    source, site_text = doc.text, doc.site_text(site)
    site_hash = content_key(site_text)
    record = ls.session.results.get(key)
    try:
        problem = problem_of(doc, site, source)
        ls.log(f"profiling {site.name} in {doc.path.name} on {settings.device}")
        done = await ls.session.engine.profile(settings, problem, record.recheck_against(site_hash))
        outcome, mismatch = done.outcome, done.mismatch
    except asyncio.CancelledError:
        ls.log(f"profile of {name} cancelled")
        raise
    except KernelwrightError as exc:  # JobError (worker crashed, timed out, ...), SpecError, UsageError
        ls.log(f"profile of {name} failed: {exc}", types.MessageType.Error)
        ls.session.results.record_failure(key, RunFailure("worker", str(exc).splitlines()[0]))
    else:
        if isinstance(outcome, Measurement):
            ls.session.results.record_measurement(key, outcome, site_hash, source, mismatch)
            ls.session.stores.save(key, outcome)
            ls.log(f"profiled {site.name}: {outcome.timing.median_us:.1f} us on {outcome.device.label}")
        else:
            failure = RunFailure(outcome.stage.value, outcome.message, outcome.line)
            ls.log(f"profile of {name} failed at {failure.stage}: {failure.message}", types.MessageType.Error)
            ls.session.results.record_failure(key, failure)
    refresh(ls, doc.path)


def refresh(ls: KernelwrightServer, path: Path | None) -> None:
    """After results change: diagnostics now for the open documents of `path` (of every file when None),
    lenses and hints on the client's pull."""
    for doc in ls.session.documents:
        if path is None or doc.path == path:
            diagnostics.publish(ls, doc)
    ls.refresh_views()
