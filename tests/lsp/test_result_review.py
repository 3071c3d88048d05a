"""kernelwright's own client reviews an optimize result as a diff: the server announces it
(kernelwright/resultReady), gives the file as it would read (kernelwright.reviewResult), applies it only
against the version the diff was shown at (kernelwright.applyResult {id, version}), and drops it on
Reject (kernelwright.discardResult). The history it draws comes from kernelwright.showHistory."""

from __future__ import annotations

from typing import Any

import pytest
from lsp.conftest import vscode_capabilities
from lsp.editor_support import Editor, StartEditor, scripted_model_settings, wait_until
from lsprotocol import types
from support.scripted_servers import OpenAIServer, Scripted

pytestmark = pytest.mark.slow

DEADLINE = 240.0

SOURCE = """import torch


def make_inputs():
    return (torch.randn(256, 64),)


# kernelwright: bench inputs=make_inputs
def double(x):
    return torch.stack([row * 2 for row in x])
"""
REPLY = "```python\nimport torch\n\n\ndef double(x):\n    return x * 2\n```\n"


def reviewing_capabilities() -> types.ClientCapabilities:
    caps = vscode_capabilities()
    caps.experimental = {"kernelwright": {"reviewResults": True, "historyView": True}}
    return caps


async def optimized(start_editor: StartEditor) -> tuple[Editor, str, Any]:
    """An optimize of `double` with a scripted model, up to the server's kernelwright/resultReady."""
    with OpenAIServer([Scripted(REPLY)]) as server:
        editor = await start_editor(
            init_options=scripted_model_settings(server.url), capabilities=reviewing_capabilities()
        )
        ready: list[Any] = []
        editor.client.feature("kernelwright/resultReady")(lambda params: ready.append(params))
        uri = editor.open("double.py", SOURCE)
        await editor.command("kernelwright.optimize", {"uri": uri, "site": "double"})
        await wait_until(lambda: ready, DEADLINE, "kernelwright/resultReady")
    (note,) = ready
    return editor, uri, note


async def test_a_reviewed_result_applies_only_at_the_version_its_diff_showed(
    start_editor: StartEditor,
) -> None:
    editor, uri, note = await optimized(start_editor)
    result_id = note.id
    assert note.site == "double" and note.uri == uri and "faster" in note.summary
    # Nothing is applied until the person answers the diff.
    assert editor.applied == []

    shown = await editor.command("kernelwright.reviewResult", result_id)
    assert shown["placed"] is True and shown["version"] == 1
    assert "return x * 2" in shown["proposedText"] and "torch.stack" not in shown["proposedText"]
    assert shown["proposedText"].startswith("import torch\n\n\ndef make_inputs")
    assert (
        shown["speedup"] > 1 and shown["device"].startswith("CPU") and shown["bestUs"] < shown["baselineUs"]
    )

    # An edit after the diff was shown: Accept of that diff is refused and nothing is sent.
    later = editor.edit(uri, types.Range(types.Position(0, 0), types.Position(0, 0)), "# a comment\n")
    refused = await editor.command("kernelwright.applyResult", {"id": result_id, "version": shown["version"]})
    assert refused == {"applied": False, "reason": "changed since review", "result": result_id}
    assert editor.applied == []
    assert any("changed after the diff" in m.message for m in editor.client.log_messages)

    again = await editor.command("kernelwright.reviewResult", result_id)
    assert again["version"] == later and again["proposedText"].startswith("# a comment\nimport torch")
    applied = await editor.command("kernelwright.applyResult", {"id": result_id, "version": later})
    assert applied == {"applied": True, "result": result_id}
    (params,) = editor.applied
    (change,) = params.edit.document_changes or []
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.version == later
    # Reviewed already: no change annotation asking the editor to confirm a second time.
    assert all(not isinstance(e, types.AnnotatedTextEdit) for e in change.edits)

    assert await editor.command("kernelwright.discardResult", result_id) == {
        "discarded": False,
        "result": result_id,
    }
    history = await editor.command("kernelwright.showHistory", {"uri": uri, "site": "double"})
    (attempt,) = history["attempts"]
    assert attempt["status"] == "done" and attempt["best_speedup"] > 1
    assert attempt["device"].startswith("CPU") and attempt["best_candidate"]
    # The client draws history itself: no message for it.
    assert not any("measurements, newest first" in m for m in editor.messages())


async def test_an_accept_sent_right_after_an_edit_sees_the_edit(start_editor: StartEditor) -> None:
    """The edit's analysis runs off the event loop; an Accept that follows it at once waits for it (it
    names the result, not the file) instead of reading the version from before the edit. A long edit
    makes the analysis slow enough that an Accept not held back would be applied."""
    editor, uri, note = await optimized(start_editor)
    shown = await editor.command("kernelwright.reviewResult", note.id)
    long_comment = "".join(f"# line {i} of a long comment\n" for i in range(60_000))
    editor.edit(uri, types.Range(types.Position(0, 0), types.Position(0, 0)), long_comment)
    refused = await editor.command("kernelwright.applyResult", {"id": note.id, "version": shown["version"]})
    assert refused == {"applied": False, "reason": "changed since review", "result": note.id}
    assert editor.applied == []


async def test_reject_drops_the_result_and_changes_nothing(start_editor: StartEditor) -> None:
    editor, _, note = await optimized(start_editor)
    result_id = note.id
    assert await editor.command("kernelwright.discardResult", result_id) == {
        "discarded": True,
        "result": result_id,
    }
    gone = await editor.command("kernelwright.applyResult", {"id": result_id, "version": 1})
    assert gone == {"applied": False, "reason": "unknown result"}
    assert editor.applied == []
    bad = None
    try:
        await editor.command("kernelwright.applyResult", {"id": result_id, "version": "one"})
    except Exception as exc:  # InvalidParams, naming what is expected
        bad = str(exc)
    assert bad is not None and "DOCUMENT_VERSION" in bad
