"""Diagnostics (source "kernelwright"): static findings at once, run findings after measurements.

Publishing is debounced per URI so a burst of keystrokes costs one analysis publish, not one each.
"""

from __future__ import annotations

from lsprotocol import types

from kernelwright.core.site import Finding
from kernelwright.lsp.app import KernelwrightServer
from kernelwright.lsp.convert import to_lsp_diagnostic
from kernelwright.lsp.documents import OpenDocument, code_hashes
from kernelwright.lsp.results import SiteKey
from kernelwright.lsp.run_findings import run_findings


def findings_of(ls: KernelwrightServer, doc: OpenDocument) -> list[Finding]:
    found = list(doc.result.findings)
    for site in doc.result.sites:
        key = SiteKey(doc.path, site.name)
        if not ls.session.results.known(key):
            continue  # never run: no run findings (and no hashing of its text)
        record = ls.session.results.get(key)
        found.extend(run_findings(site, record, code_hashes(doc, site)))
    return found


def publish(ls: KernelwrightServer, doc: OpenDocument) -> None:
    diagnostics = [to_lsp_diagnostic(f) for f in findings_of(ls, doc)]
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=doc.uri, version=doc.version, diagnostics=diagnostics)
    )


def schedule(ls: KernelwrightServer, uri: str) -> None:
    """Publish for `uri` once edits pause for the debounce period."""

    async def later() -> None:
        doc = ls.session.documents.get(uri)
        if doc is not None:
            publish(ls, doc)

    ls.session.diagnostics_debounce.call(uri, later)


def clear(ls: KernelwrightServer, uri: str) -> None:
    ls.session.diagnostics_debounce.cancel(uri)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
