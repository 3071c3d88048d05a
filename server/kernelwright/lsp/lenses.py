"""Code lenses above every site: Profile and Optimize, then the measured result once there is one."""

from __future__ import annotations

from lsprotocol import types

from kernelwright.lsp.app import KernelwrightServer
from kernelwright.lsp.convert import to_lsp_code_lens
from kernelwright.lsp.documents import OpenDocument, code_hashes
from kernelwright.lsp.present import site_lenses
from kernelwright.lsp.results import SiteKey


def lenses_of(ls: KernelwrightServer, doc: OpenDocument) -> list[types.CodeLens]:
    out: list[types.CodeLens] = []
    for site in doc.result.sites:
        key = SiteKey(doc.path, site.name)
        record = ls.session.results.get(key)
        stale = record.stale(code_hashes(doc, site))
        busy = ls.session.jobs.busy_label(key)
        for lens in site_lenses(site, doc.uri, record.measurement, stale, busy):
            out.append(to_lsp_code_lens(site, lens))
    return out


def register(server: KernelwrightServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def code_lens(ls: KernelwrightServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        doc = ls.session.documents.get(params.text_document.uri)
        return lenses_of(ls, doc) if doc is not None else []
