"""Which documents a message waits on (editor_protocol.documents_named): a command that names an optimize
result by id waits for that result's document, so Accept of a reviewed diff sees an edit sent before it
(CI once ran the Accept before the edit's analysis had landed, and applied a diff the person no longer
had in front of them)."""

from __future__ import annotations

from kernelwright.lsp.editor_protocol import documents_named
from lsprotocol import types

URI = "file:///ws/double.py"


def command(*arguments: object) -> types.ExecuteCommandRequest:
    return types.ExecuteCommandRequest(
        id=1, params=types.ExecuteCommandParams(command="kernelwright.x", arguments=list(arguments))
    )


def test_a_result_named_by_id_is_about_its_document() -> None:
    results = {"5ef8ff2da044": URI}
    assert documents_named(command({"id": "5ef8ff2da044", "version": 1}), results) == [URI]
    assert documents_named(command("5ef8ff2da044"), results) == [URI]


def test_an_unknown_id_or_no_results_names_nothing() -> None:
    assert documents_named(command({"id": "000000000000", "version": 1}), {"5ef8ff2da044": URI}) == []
    assert documents_named(command({"id": "5ef8ff2da044"})) == []


def test_uris_and_text_documents_are_named_as_before() -> None:
    assert documents_named(command({"uri": URI, "site": "double"}), {}) == [URI]
    assert documents_named(command(URI)) == [URI]
    hover = types.HoverRequest(
        id=2,
        params=types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(0, 0)
        ),
    )
    assert documents_named(hover) == [URI]
