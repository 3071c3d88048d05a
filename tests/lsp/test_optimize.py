"""Optimize from the editor: progress, cancel, and an edit that never clobbers the person's text.

The provider is the OpenAI-compatible one, pointed at a local scripted server (tests/support): its
replies are test input. Candidates are verified and timed in the engine's CPU workers for real.
"""

from __future__ import annotations

import asyncio

import pytest
from kernelwright.core.site import Position
from kernelwright.core.text import offset_at
from lsp.editor_support import Editor, StartEditor, scripted_model_settings, wait_until
from lsprotocol import types
from support.scripted_servers import OpenAIServer, Scripted

pytestmark = pytest.mark.slow

# One step's wait, below pytest's 300 s for the test: a step that hangs fails naming itself and the
# progress so far (an optimize here takes about 10 s on an idle laptop).
DEADLINE = 120.0

# A deliberately slow original (a Python loop over rows) and a candidate that does the same in one op.
SLOW = """import torch


def make_inputs():
    return (torch.randn(256, 64),)


# kernelwright: bench inputs=make_inputs
def double(x):
    return torch.stack([row * 2 for row in x])
"""

REPLY = """Vectorised:

```python
import torch


def double(x):
    return x * 2
```
"""


def apply_text_edit(text: str, edit: types.TextEdit | types.AnnotatedTextEdit) -> str:
    start = offset_at(text, Position(edit.range.start.line, edit.range.start.character))
    end = offset_at(text, Position(edit.range.end.line, edit.range.end.character))
    return text[:start] + edit.new_text + text[end:]


def only_edit(editor: Editor) -> tuple[types.TextDocumentEdit, types.ApplyWorkspaceEditParams]:
    (params,) = editor.applied
    changes = params.edit.document_changes
    assert changes is not None and len(changes) == 1
    change = changes[0]
    assert isinstance(change, types.TextDocumentEdit)
    return change, params


async def wait_for_result(editor: Editor) -> None:
    """Until the optimize ends (its progress ends), then until its edit arrives."""
    await wait_until(
        lambda: any(m.startswith("end:") for m in progress_messages(editor)), DEADLINE, "the end"
    )
    await wait_until(
        lambda: editor.applied, 10, f"workspace/applyEdit; progress was {progress_messages(editor)}"
    )


async def progress_until(editor: Editor, wanted: str, what: str) -> list[str]:
    """Until a progress message contains `wanted`; fail at once, with the messages, if the progress ends
    without it (a cancel that came too late, a run that ended early), and after DEADLINE if it hangs."""
    loop = asyncio.get_running_loop()
    end = loop.time() + DEADLINE
    while True:
        messages = progress_messages(editor)
        if any(wanted in m for m in messages):
            return messages
        if any(m.startswith("end:") for m in messages):
            raise AssertionError(f"progress ended before {what}: {messages}")
        if loop.time() > end:
            raise AssertionError(f"timed out after {DEADLINE:.0f} s waiting for {what}; progress: {messages}")
        await asyncio.sleep(0.02)


def progress_messages(editor: Editor) -> list[str]:
    out: list[str] = []
    for reports in editor.client.progress_reports.values():
        for value in reports:
            message = getattr(value, "message", None)
            if message:
                out.append(f"{value.kind}:{message}")
    return out


async def test_optimize_reports_progress_and_ends_with_a_previewed_versioned_edit(
    start_editor: StartEditor,
) -> None:
    with OpenAIServer([Scripted(REPLY)]) as server:
        editor = await start_editor(init_options=scripted_model_settings(server.url))
        uri = editor.open("double.py", SLOW)
        started = await editor.command("kernelwright.optimize", {"uri": uri, "site": "double"})
        assert started == {"started": True, "site": "double"}
        await wait_for_result(editor)
    change, params = only_edit(editor)
    assert change.text_document.version == 1  # not edited meanwhile: the version it was computed on
    (edit,) = change.edits
    assert isinstance(edit, types.AnnotatedTextEdit)  # VS Code previews it: needsConfirmation
    annotations = params.edit.change_annotations or {}
    assert annotations[edit.annotation_id].needs_confirmation is True
    new_text = apply_text_edit(SLOW, edit)
    assert "return x * 2" in new_text and "torch.stack" not in new_text
    messages = progress_messages(editor)
    assert any(m.startswith("begin:") for m in messages)
    assert any("round 1" in m for m in messages)
    assert any(m.startswith("end:") for m in messages)
    await wait_until(lambda: any("applied" in m for m in editor.messages()), what="the applied message")


async def test_an_edit_above_the_site_during_optimize_is_re_anchored(start_editor: StartEditor) -> None:
    with OpenAIServer([Scripted(REPLY)]) as server:
        editor = await start_editor(init_options=scripted_model_settings(server.url))
        uri = editor.open("double.py", SLOW)
        await editor.command("kernelwright.optimize", {"uri": uri, "site": "double"})
        # The person types two lines at the top (with non-ASCII) while candidates are checked.
        added = "# notes: ünïcode 🚀\n# more\n"
        version = editor.edit(uri, types.Range(start=types.Position(0, 0), end=types.Position(0, 0)), added)
        await wait_for_result(editor)
    change, _ = only_edit(editor)
    assert change.text_document.version == version
    (edit,) = change.edits
    result = apply_text_edit(added + SLOW, edit)
    assert result.startswith(added)
    assert "return x * 2" in result and "torch.stack" not in result


async def test_an_edit_inside_the_site_during_optimize_is_never_clobbered(start_editor: StartEditor) -> None:
    with OpenAIServer([Scripted(REPLY)]) as server:
        editor = await start_editor(init_options=scripted_model_settings(server.url))
        uri = editor.open("double.py", SLOW)
        await editor.command("kernelwright.optimize", {"uri": uri, "site": "double"})
        line = SLOW.splitlines()[9]
        col = line.index("2")
        editor.edit(uri, types.Range(start=types.Position(9, col), end=types.Position(9, col + 1)), "3")
        text = await wait_until(
            lambda: next((m for m in editor.messages() if "was not applied" in m), None),
            DEADLINE,
            "the message that the result could not be placed",
        )
    assert editor.applied == []
    assert "kernelwright.applyResult" in text


async def test_cancel_from_the_client_stops_the_optimize_and_its_workers(start_editor: StartEditor) -> None:
    with OpenAIServer([Scripted(REPLY)]) as server:
        editor = await start_editor(init_options=scripted_model_settings(server.url))
        uri = editor.open("double.py", SLOW)
        await editor.command("kernelwright.optimize", {"uri": uri, "site": "double"})
        token = await wait_until(
            lambda: next(iter(editor.client.progress_reports), None), DEADLINE, "the progress token"
        )
        # Wait until candidates are being checked (a worker is busy), then cancel from the client.
        await progress_until(editor, "round 1", "round 1")
        editor.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        messages = await progress_until(editor, "end:", "the end of progress")
        assert messages[-1] == "end:cancelled", messages
        state = await editor.command("kernelwright.debugState")
    assert state["jobs"] == []
    assert editor.applied == []
    titles = await editor.lens_titles(uri)
    assert "Optimize" in titles  # the lens is back from "optimizing…"


async def test_the_cancel_command_stops_a_running_optimize(start_editor: StartEditor) -> None:
    with OpenAIServer([Scripted(REPLY)]) as server:
        editor = await start_editor(init_options=scripted_model_settings(server.url))
        uri = editor.open("double.py", SLOW)
        await editor.command("kernelwright.optimize", {"uri": uri, "site": "double"})
        await progress_until(editor, "round 1", "round 1")
        # While it runs, the lens offers the cancel; a second optimize is refused.
        titles = await editor.lens_titles(uri)
        assert any(t.startswith("optimizing") and "(cancel)" in t for t in titles)
        again = await editor.command("kernelwright.optimize", {"uri": uri, "site": "double"})
        assert again == {"started": False, "reason": "already optimizing"}
        answer = await editor.command("kernelwright.cancel", {"uri": uri, "site": "double"})
        assert answer == {"cancelled": 1}
        messages = await progress_until(editor, "end:", "the end of progress")
        assert messages[-1] == "end:cancelled", messages
    assert editor.applied == []
