"""Inlay hints: at the end of each hot line, its share of the site's time from the last profile."""

from __future__ import annotations

from lsprotocol import types

from kernelwright.core.text import utf16_len
from kernelwright.lsp.app import KernelwrightServer
from kernelwright.lsp.convert import to_lsp_inlay_hint
from kernelwright.lsp.documents import OpenDocument, code_hashes
from kernelwright.lsp.present import line_cost_label
from kernelwright.lsp.results import SiteKey

# Lines below this share of the site's time get no hint: a hint on every line is noise.
MIN_SHARE = 0.02


def hints_of(ls: KernelwrightServer, doc: OpenDocument, first: int, last: int) -> list[types.InlayHint]:
    out: list[types.InlayHint] = []
    for site in doc.result.sites:
        record = ls.session.results.get(SiteKey(doc.path, site.name))
        m = record.measurement
        # Line numbers of a stale profile point at lines that may have moved: show none.
        if m is None or record.stale(code_hashes(doc, site)):
            continue
        for cost in m.line_costs:
            if cost.share < MIN_SHARE or not first <= cost.line <= last or cost.line >= len(doc.lines.starts):
                continue
            start, stop = doc.lines.line_span(cost.line)
            end = utf16_len(doc.text[start:stop].rstrip("\r"))
            tooltip = f"share of {m.symbol}'s time on {m.device.label}"
            out.append(to_lsp_inlay_hint(cost.line, end, line_cost_label(cost), tooltip))
    return out


def register(server: KernelwrightServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
    def inlay_hint(ls: KernelwrightServer, params: types.InlayHintParams) -> list[types.InlayHint]:
        doc = ls.session.documents.get(params.text_document.uri)
        if doc is None:
            return []
        return hints_of(ls, doc, params.range.start.line, params.range.end.line)
