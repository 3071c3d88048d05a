"""What the server shows from analysis alone: lenses, hovers, diagnostics, code actions, positions."""

from __future__ import annotations

from kernelwright.core.site import Position
from kernelwright.core.text import offset_at
from lsp.editor_support import StartEditor, wait_until
from lsprotocol import types
from pytest_lsp import client_capabilities

FUNCTION_SITE = """import torch


def make_inputs():
    return (torch.randn(64, 64),)


# kernelwright: bench inputs=make_inputs
def double(x):
    return x * 2
"""

NO_SPEC = """import torch
import torch.nn as nn


class Scale(nn.Module):
    def forward(self, x):
        return x * 3
"""

# Non-ASCII text before the finding on the same line: 'é' is one UTF-16 unit and three UTF-8 bytes,
# '🚀' two UTF-16 units, one Python character and four UTF-8 bytes.
CUDA_UTF16 = """__global__ void scale(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    /* é🚀 */ if (i < n) y[i] = x[i] * 1e-3;
}
"""


def apply_edit(text: str, edit: types.TextEdit) -> str:
    """Apply an LSP edit the way an editor does: columns are UTF-16 code units."""
    start = offset_at(text, Position(edit.range.start.line, edit.range.start.character))
    end = offset_at(text, Position(edit.range.end.line, edit.range.end.character))
    return text[:start] + edit.new_text + text[end:]


async def test_lenses_above_every_site(start_editor: StartEditor) -> None:
    editor = await start_editor()
    uri = editor.open("double.py", FUNCTION_SITE)
    lenses = await editor.lenses(uri)
    titles = [lens.command.title for lens in lenses if lens.command]
    assert titles == ["Profile", "Optimize"]
    # On the site's first line: the directive or the def, whichever analysis starts the site at.
    assert {lens.range.start.line for lens in lenses} <= {7, 8}
    profile = next(lens for lens in lenses if lens.command and lens.command.title == "Profile")
    assert profile.command is not None
    assert profile.command.command == "kernelwright.profile"
    assert list(profile.command.arguments or []) == [{"uri": uri, "site": "double"}]


async def test_hover_on_a_site_without_spec_says_how_to_add_one(start_editor: StartEditor) -> None:
    editor = await start_editor()
    uri = editor.open("scale.py", NO_SPEC)
    text = await editor.hover(uri, 4, 8)
    assert text is not None
    assert "no bench spec" in text
    assert "get_inputs" in text and "# kernelwright: bench" in text
    # Off any site there is nothing to say.
    assert await editor.hover(uri, 0, 3) is None


async def test_findings_are_published_with_their_rationale_on_hover(start_editor: StartEditor) -> None:
    editor = await start_editor()
    uri = editor.open("k.cu", CUDA_UTF16, language="cuda")
    diags = await wait_until(lambda: editor.diagnostics(uri), what="diagnostics on open")
    literal = next(d for d in diags if d.code == "KW106")
    assert literal.source == "kernelwright"
    assert literal.severity == types.DiagnosticSeverity.Warning
    hover = await editor.hover(uri, literal.range.start.line, literal.range.start.character + 1)
    assert hover is not None and "_Why_" in hover and "double" in hover


async def test_utf16_columns_after_non_ascii_text_on_the_same_line(start_editor: StartEditor) -> None:
    editor = await start_editor()
    uri = editor.open("k.cu", CUDA_UTF16, language="cuda")
    diags = await wait_until(lambda: editor.diagnostics(uri), what="diagnostics on open")
    literal = next(d for d in diags if d.code == "KW106")
    line = CUDA_UTF16.splitlines()[2]
    utf16_col = len(line[: line.index("1e-3")].encode("utf-16-le")) // 2
    assert literal.range.start == types.Position(2, utf16_col)
    assert literal.range.end == types.Position(2, utf16_col + len("1e-3"))
    actions = await editor.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=literal.range,
            context=types.CodeActionContext(diagnostics=[literal]),
        )
    )
    fixes = [
        a
        for a in actions or []
        if isinstance(a, types.CodeAction) and a.kind == types.CodeActionKind.QuickFix
    ]
    assert len(fixes) == 1 and fixes[0].edit is not None and fixes[0].edit.document_changes
    change = fixes[0].edit.document_changes[0]
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.version == 1  # guarded by the document version
    (edit,) = change.edits
    assert isinstance(edit, types.TextEdit)
    assert apply_edit(CUDA_UTF16, edit) == CUDA_UTF16.replace("1e-3;", "1e-3f;")


async def test_edits_are_incremental_and_diagnostics_follow(start_editor: StartEditor) -> None:
    editor = await start_editor(init_options={"debounceMs": 50})
    uri = editor.open("k.cu", CUDA_UTF16, language="cuda")
    await wait_until(
        lambda: any(d.code == "KW106" for d in editor.diagnostics(uri)), what="first diagnostics"
    )
    line = CUDA_UTF16.splitlines()[2]
    col = len(line[: line.index("1e-3")].encode("utf-16-le")) // 2 + len("1e-3")
    # Type the suffix after the emoji: the finding must go away once the debounce passes.
    editor.edit(uri, types.Range(start=types.Position(2, col), end=types.Position(2, col)), "f")
    await wait_until(
        lambda: not any(d.code == "KW106" for d in editor.diagnostics(uri)), what="finding cleared"
    )
    # And a second kernel typed below gets its own lenses.
    editor.edit(
        uri,
        types.Range(start=types.Position(4, 0), end=types.Position(4, 0)),
        "__global__ void copy(const float* x, float* y, int n) {\n"
        "    int i = blockIdx.x * blockDim.x + threadIdx.x;\n    if (i < n) y[i] = x[i];\n}\n",
    )
    titles = await editor.lens_titles(uri)
    assert titles.count("Profile") == 2


async def test_code_actions_on_a_site(start_editor: StartEditor) -> None:
    editor = await start_editor()
    uri = editor.open("double.py", FUNCTION_SITE)
    actions = await editor.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(9, 4), end=types.Position(9, 4)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    titles = {a.title: a for a in actions or [] if isinstance(a, types.CodeAction)}
    assert "Optimize this kernel (double)" in titles
    assert "Profile this kernel (double)" in titles
    optimize = titles["Optimize this kernel (double)"].command
    assert optimize is not None and optimize.command == "kernelwright.optimize"
    # Outside any site: no site actions.
    none = await editor.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert not none


async def test_utf16_is_used_even_when_the_client_prefers_utf8(start_editor: StartEditor) -> None:
    caps = client_capabilities("neovim")
    assert caps.general is not None and caps.general.position_encodings
    assert caps.general.position_encodings[0] == "utf-8"
    editor = await start_editor(capabilities=caps)
    assert editor.init_result is not None
    assert editor.init_result.capabilities.position_encoding == types.PositionEncodingKind.Utf16
    uri = editor.open("k.cu", CUDA_UTF16, language="cuda")
    diags = await wait_until(lambda: editor.diagnostics(uri), what="diagnostics on open")
    literal = next(d for d in diags if d.code == "KW106")
    line = CUDA_UTF16.splitlines()[2]
    assert literal.range.start.character == len(line[: line.index("1e-3")].encode("utf-16-le")) // 2


async def test_a_syntax_error_is_a_diagnostic_until_it_is_fixed(start_editor: StartEditor) -> None:
    editor = await start_editor()
    uri = editor.open("broken.py", NO_SPEC.replace("return x * 3", "return (x * 3"))
    diags = await wait_until(
        lambda: [d for d in editor.diagnostics(uri) if d.code == "KW002"], what="the syntax error"
    )
    (error,) = diags
    assert error.severity == types.DiagnosticSeverity.Error
    assert error.message == "syntax error: `(` is never closed"
    assert (error.range.start.line, error.range.start.character) == (6, 8)
    # Closing the bracket clears it (the incremental path re-analyses the statement).
    end = types.Position(6, len("        return (x * 3"))
    editor.edit(uri, types.Range(start=end, end=end), ")")
    await wait_until(
        lambda: not any(d.code == "KW002" for d in editor.diagnostics(uri)), what="the error to clear"
    )
