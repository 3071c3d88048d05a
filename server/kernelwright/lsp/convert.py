"""Every conversion between kernelwright's values and LSP's protocol types lives here.

Functions that return a protocol type are named `to_lsp_*`; the few that read one are `from_lsp_*`.
Positions need no arithmetic: core positions are already 0-based lines and UTF-16 columns, which is the
encoding the server pins at initialize (see `editor_protocol.py`).
"""

from __future__ import annotations

from lsprotocol import types

from kernelwright.core.site import Finding, Position, Range, Severity, Site
from kernelwright.core.text import TextChange
from kernelwright.lsp.present import LensText

SOURCE = "kernelwright"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFORMATION: types.DiagnosticSeverity.Information,
    Severity.HINT: types.DiagnosticSeverity.Hint,
}


def to_lsp_position(pos: Position) -> types.Position:
    return types.Position(line=pos.line, character=pos.character)


def to_lsp_range(rng: Range) -> types.Range:
    return types.Range(start=to_lsp_position(rng.start), end=to_lsp_position(rng.end))


def from_lsp_position(pos: types.Position) -> Position:
    return Position(pos.line, pos.character)


def from_lsp_range(rng: types.Range) -> Range:
    return Range(from_lsp_position(rng.start), from_lsp_position(rng.end))


def to_lsp_severity(severity: Severity) -> types.DiagnosticSeverity:
    return _SEVERITY[severity]


def to_lsp_diagnostic(finding: Finding) -> types.Diagnostic:
    return types.Diagnostic(
        range=to_lsp_range(finding.range),
        message=finding.message,
        severity=to_lsp_severity(finding.severity),
        code=finding.rule,
        source=SOURCE,
        data={"name": finding.name, "site": finding.site, "fixable": finding.fix is not None},
    )


def to_lsp_code_lens(site: Site, lens: LensText) -> types.CodeLens:
    """A lens on the first line of the site's definition (decorators and directive included)."""
    line = site.range.start.line
    anchor = types.Range(start=types.Position(line, 0), end=types.Position(line, 0))
    command = None
    if lens.command is not None:
        command = types.Command(title=lens.title, command=lens.command, arguments=list(lens.arguments))
    else:
        # A lens with no command still needs one to be shown; an empty command id makes it inert.
        command = types.Command(title=lens.title, command="")
    return types.CodeLens(range=anchor, command=command)


def to_lsp_hover(markdown: str, rng: Range | None) -> types.Hover:
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown),
        range=to_lsp_range(rng) if rng is not None else None,
    )


def to_lsp_text_edit(rng: Range, new_text: str) -> types.TextEdit:
    return types.TextEdit(range=to_lsp_range(rng), new_text=new_text)


def to_lsp_command(title: str, command: str, arguments: tuple[object, ...] = ()) -> types.Command:
    return types.Command(title=title, command=command, arguments=list(arguments))


def from_lsp_change(change: types.TextDocumentContentChangeEvent) -> TextChange:
    if isinstance(change, types.TextDocumentContentChangePartial):
        return TextChange(change.text, from_lsp_range(change.range))
    return TextChange(change.text, None)


def to_lsp_inlay_hint(line: int, column: int, label: str, tooltip: str) -> types.InlayHint:
    return types.InlayHint(
        position=types.Position(line, column), label=label, padding_left=True, tooltip=tooltip
    )


def to_lsp_document_edit(
    uri: str,
    version: int | None,
    rng: Range,
    new_text: str,
    annotation: types.ChangeAnnotation | None = None,
) -> types.WorkspaceEdit:
    """One versioned edit: the client refuses it if the document moved past `version`.

    With an annotation that needs confirmation, clients that support it show a preview first.
    """
    edit: types.TextEdit | types.AnnotatedTextEdit
    annotations: dict[str, types.ChangeAnnotation] | None = None
    if annotation is not None:
        annotation_id = "kernelwright.optimize"
        edit = types.AnnotatedTextEdit(
            range=to_lsp_range(rng), new_text=new_text, annotation_id=annotation_id
        )
        annotations = {annotation_id: annotation}
    else:
        edit = to_lsp_text_edit(rng, new_text)
    document = types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
        edits=[edit],
    )
    return types.WorkspaceEdit(document_changes=[document], change_annotations=annotations)
