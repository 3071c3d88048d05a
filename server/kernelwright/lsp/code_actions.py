"""Code actions on a site: "Optimize this kernel", "Profile this kernel", and quick fixes for findings
that carry a mechanical fix."""

from __future__ import annotations

from lsprotocol import types

from kernelwright.core.site import Range
from kernelwright.lsp.app import KernelwrightServer
from kernelwright.lsp.command_ids import CommandId, SiteRef
from kernelwright.lsp.convert import from_lsp_range, to_lsp_command, to_lsp_diagnostic, to_lsp_document_edit
from kernelwright.lsp.documents import OpenDocument
from kernelwright.lsp.profile import runnable_site


def actions_of(doc: OpenDocument, rng: Range) -> list[types.CodeAction]:
    out: list[types.CodeAction] = []
    for site in doc.result.sites:
        if not site.range.overlaps_lines(rng.start.line, rng.end.line):
            continue
        target = runnable_site(doc, site)
        if target.spec is None:
            continue
        ref = SiteRef(doc.uri, target.name).as_argument()
        out.append(
            types.CodeAction(
                title=f"Optimize this kernel ({target.name})",
                kind=types.CodeActionKind.RefactorRewrite,
                command=to_lsp_command("Optimize this kernel", CommandId.OPTIMIZE, (ref,)),
            )
        )
        out.append(
            types.CodeAction(
                title=f"Profile this kernel ({target.name})",
                kind=types.CodeActionKind.Empty,
                command=to_lsp_command("Profile this kernel", CommandId.PROFILE, (ref,)),
            )
        )
    for finding in doc.result.findings:
        if finding.fix is None or not finding.range.overlaps_lines(rng.start.line, rng.end.line):
            continue
        out.append(
            types.CodeAction(
                title=f"Fix {finding.rule}: {finding.name}",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[to_lsp_diagnostic(finding)],
                edit=to_lsp_document_edit(doc.uri, doc.version, finding.range, finding.fix),
                is_preferred=True,
            )
        )
    return out


def register(server: KernelwrightServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[
                types.CodeActionKind.QuickFix,
                types.CodeActionKind.RefactorRewrite,
                types.CodeActionKind.Empty,
            ]
        ),
    )
    def code_action(ls: KernelwrightServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        doc = ls.session.documents.get(params.text_document.uri)
        return actions_of(doc, from_lsp_range(params.range)) if doc is not None else []
