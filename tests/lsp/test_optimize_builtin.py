"""Optimize from the editor with the builtin provider: no model, no network, the CPU only.

The whole path of issue 5 through the real server: the "Optimize this kernel" code action on the
module sample, the builtin search's torch.compile variant verified and timed in CPU workers, progress
to its end, and a previewable, versioned workspace/applyEdit. The test applies the edit as an editor
would and checks the result with `kernelwright verify` against the untouched sample, in a fresh process.

One candidate, not two: each torch.compile candidate costs a cold Inductor compile (~20 s on the
2-core CI box), and one is enough to prove the path; the time budget is generous for loaded machines.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from pathlib import Path

import pytest
from kernelwright.core.site import Position
from kernelwright.core.text import offset_at
from lsp.editor_support import Editor, StartEditor, wait_until
from lsprotocol import types

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "pytorch" / "layernorm_gelu_unfused.py"
SEARCH_SECONDS = 150.0  # the optimize's own wall budget; the test waits a little longer than that
VERIFY_SECONDS = 120.0

SETTINGS = {
    "provider": "builtin",
    "device": "cpu",
    "autoProfile": "off",
    "compileBaseline": False,
    "budgets": {"rounds": 1, "candidates": 1, "wallSeconds": SEARCH_SECONDS},
}


def apply_text_edit(text: str, edit: types.TextEdit | types.AnnotatedTextEdit) -> str:
    start = offset_at(text, Position(edit.range.start.line, edit.range.start.character))
    end = offset_at(text, Position(edit.range.end.line, edit.range.end.character))
    return text[:start] + edit.new_text + text[end:]


def progress_messages(editor: Editor) -> list[str]:
    """ "kind:message" of every progress value (pytest-lsp types them as ProgressParams; they are not)."""
    kinds = (types.WorkDoneProgressBegin, types.WorkDoneProgressReport, types.WorkDoneProgressEnd)
    out: list[str] = []
    for reports in editor.client.progress_reports.values():
        for value in list[object](reports):
            if isinstance(value, kinds) and value.message:
                out.append(f"{value.kind}:{value.message}")
    return out


async def optimize_action(editor: Editor, uri: str, line: int) -> types.Command:
    """The "Optimize this kernel" code action at `line`, as the editor's light bulb offers it."""
    answer = await editor.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line, 0), end=types.Position(line, 0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    titles = [a.title for a in answer or []]
    action = next(
        (a for a in answer or [] if isinstance(a, types.CodeAction) and a.title.startswith("Optimize")),
        None,
    )
    assert action is not None and action.command is not None, f"no Optimize action; offered: {titles}"
    assert action.kind == types.CodeActionKind.RefactorRewrite
    return action.command


async def kernelwright_verify(reference: Path, candidate: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kernelwright",
        "verify",
        str(reference),
        str(candidate),
        "--device",
        "cpu",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), VERIFY_SECONDS)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"kernelwright verify took more than {VERIFY_SECONDS:.0f} s") from None
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")


async def test_builtin_optimize_of_the_module_sample_ends_in_a_verified_applied_edit(
    start_editor: StartEditor, tmp_path: Path
) -> None:
    if shutil.which("g++") is None and shutil.which("gcc") is None:
        pytest.skip("torch.compile on the CPU needs a C++ compiler (apt-get install g++)")
    original = SAMPLE.read_text()
    (tmp_path / SAMPLE.name).write_text(original)
    editor = await start_editor(init_options=SETTINGS)
    uri = editor.open(SAMPLE.name)

    model_line = original.splitlines().index("class Model(nn.Module):")
    command = await optimize_action(editor, uri, model_line + 3)
    started = await editor.command(command.command, *(command.arguments or []))
    assert started == {"started": True, "site": "Model"}

    await wait_until(
        lambda: any(m.startswith("end:") for m in progress_messages(editor)),
        SEARCH_SECONDS + 60,
        "the end of the optimize's progress",
    )
    await wait_until(
        lambda: editor.applied, 10, f"workspace/applyEdit; progress was {progress_messages(editor)}"
    )
    messages = progress_messages(editor)
    assert any(m.startswith("begin:builtin provider") for m in messages), messages
    assert any(re.search(r"\b[1-9]\d* of \d+ candidates passed", m) for m in messages), messages

    (params,) = editor.applied
    changes = params.edit.document_changes
    assert changes is not None and len(changes) == 1
    change = changes[0]
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.uri == uri
    assert change.text_document.version == 1  # the version the search ran on: nothing typed since
    (edit,) = change.edits
    assert isinstance(edit, types.AnnotatedTextEdit)  # the editor previews it before it changes anything
    annotation = (params.edit.change_annotations or {})[edit.annotation_id]
    assert annotation.needs_confirmation is True
    assert "faster" in (annotation.description or "")

    edited = apply_text_edit(original, edit)
    assert edited != original
    assert "class Model(nn.Module):" in edited
    decorated = edited.splitlines()[model_line:]
    forward = next(i for i, line in enumerate(decorated) if "def forward(" in line)
    assert decorated[forward - 1].strip().startswith("@torch.compile"), decorated[: forward + 1]
    await wait_until(lambda: any("applied" in m for m in editor.messages()), what="the applied message")

    # What the editor now saves; the sample in samples/ stays the reference.
    candidate = tmp_path / SAMPLE.name
    candidate.write_text(edited)
    code, output = await kernelwright_verify(SAMPLE, candidate)
    assert code == 0, f"kernelwright verify rejected the applied edit:\n{output}"
