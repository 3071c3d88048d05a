"""Document sync (incremental): every change feeds the document's DocumentAnalysis, then diagnostics
are published once typing pauses, and auto-profiling (on save / on change) is asked to look.

Opens, changes and closes of one document run in its lane, in arrival order, with the analysis in a
thread (documents.py): a big document keeps no other document's requests waiting.
"""

from __future__ import annotations

from lsprotocol import types

from kernelwright.lsp import autoprofile, diagnostics
from kernelwright.lsp.app import KernelwrightServer
from kernelwright.lsp.convert import from_lsp_change
from kernelwright.lsp.results import SiteKey


def register(server: KernelwrightServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: KernelwrightServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        ls.session.documents.opening(item.uri)

        async def opened() -> None:
            doc = await ls.session.documents.open(item.uri, item.text, item.version)
            for site in doc.result.sites:
                ls.session.stores.load_into(ls.session.results, SiteKey(doc.path, site.name))
            for message in ls.session.stores.take_messages():
                ls.tell(f"kernelwright: {message}")
            # Opening shows findings at once: there is no burst to wait out.
            diagnostics.publish(ls, doc)

        ls.session.lanes.queue(item.uri, f"opening {item.uri}", opened)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: KernelwrightServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        changes = [from_lsp_change(c) for c in params.content_changes]
        version = params.text_document.version

        async def changed() -> None:
            doc = await ls.session.documents.change(uri, changes, version)
            if doc is None:
                return
            diagnostics.schedule(ls, uri)
            autoprofile.document_changed(ls, doc, saved=False)

        ls.session.lanes.queue(uri, f"a change to {uri}", changed)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: KernelwrightServer, params: types.DidSaveTextDocumentParams) -> None:
        doc = ls.session.documents.get(params.text_document.uri)
        if doc is not None:
            autoprofile.document_changed(ls, doc, saved=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: KernelwrightServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri

        async def closed() -> None:
            ls.session.documents.close(uri)
            diagnostics.clear(ls, uri)

        ls.session.lanes.queue(uri, f"closing {uri}", closed)
