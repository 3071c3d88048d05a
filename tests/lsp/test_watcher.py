"""watchdog on the workspace: changes on disk by another process re-profile the measured sites they
affect (the file itself, or a file it imports), in coalesced batches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lsp.editor_support import Editor, StartEditor, eventually, wait_until
from lsprotocol import types

pytestmark = pytest.mark.slow

DEADLINE = 240.0
SETTINGS = {"device": "cpu", "compileBaseline": False, "debounceMs": 100, "autoProfile": "on_save"}

HELPERS = "SCALE = 2\n"
MAIN = """import torch

from helpers import SCALE


def make_inputs():
    return (torch.randn(16, 16),)


# kernelwright: bench inputs=make_inputs
def scaled(x):
    return x * SCALE
"""


def write_from_another_process(path: Path, text: str) -> None:
    subprocess.run([sys.executable, "-c", f"open({str(path)!r}, 'w').write({text!r})"], check=True)


def profiled_count(editor: Editor, name: str) -> int:
    return sum(1 for m in editor.client.log_messages if m.message.startswith(f"profiled {name}:"))


async def measured(editor: Editor, uri: str) -> None:
    async def probe() -> bool:
        return any(" · CPU" in t for t in await editor.lens_titles(uri))

    await eventually(probe, DEADLINE, "a measured lens")


async def test_a_change_to_an_imported_file_re_profiles_the_site(
    start_editor: StartEditor, tmp_path: Path
) -> None:
    (tmp_path / "helpers.py").write_text(HELPERS)
    editor = await start_editor(init_options=SETTINGS)
    uri = editor.open("main.py", MAIN)
    await editor.command("kernelwright.profile", {"uri": uri, "site": "scaled"})
    await measured(editor, uri)
    assert profiled_count(editor, "scaled") == 1

    write_from_another_process(tmp_path / "helpers.py", "SCALE = 3\n")
    await wait_until(lambda: profiled_count(editor, "scaled") == 2, DEADLINE, "a second profile")
    assert any("changed on disk: helpers.py" in m.message for m in editor.client.log_messages)


async def test_a_closed_measured_file_changed_on_disk_is_re_profiled_from_disk(
    start_editor: StartEditor, tmp_path: Path
) -> None:
    (tmp_path / "helpers.py").write_text(HELPERS)
    editor = await start_editor(init_options=SETTINGS)
    uri = editor.open("main.py", MAIN)
    await editor.command("kernelwright.profile", {"uri": uri, "site": "scaled"})
    await measured(editor, uri)
    editor.client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    write_from_another_process(tmp_path / "main.py", MAIN.replace("x * SCALE", "SCALE * x"))
    await wait_until(lambda: profiled_count(editor, "scaled") == 2, DEADLINE, "a profile of the file on disk")


async def test_a_burst_of_changes_is_coalesced(start_editor: StartEditor, tmp_path: Path) -> None:
    editor = await start_editor(init_options={**SETTINGS, "debounceMs": 300})
    editor.open("main.py", MAIN)

    async def watching() -> bool:
        return bool((await editor.command("kernelwright.debugState"))["watching"])

    await eventually(watching, what="the watcher to start")
    script = "; ".join(f"open({str(tmp_path / f'gen_{i}.py')!r}, 'w').write('X = {i}\\n')" for i in range(30))
    subprocess.run([sys.executable, "-c", script], check=True)

    def batches() -> list[str]:
        return [m.message for m in editor.client.log_messages if m.message.startswith("changed on disk:")]

    await wait_until(lambda: sum(b.count("gen_") for b in batches()) >= 30, 30, "all 30 files reported")
    # 30 files written in one burst arrive as one batch (two at most if the burst straddled a pause).
    assert len(batches()) <= 2


async def test_auto_profile_off_leaves_disk_changes_alone(start_editor: StartEditor, tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text(HELPERS)
    editor = await start_editor(init_options={**SETTINGS, "autoProfile": "off"})
    uri = editor.open("main.py", MAIN)
    await editor.command("kernelwright.profile", {"uri": uri, "site": "scaled"})
    await measured(editor, uri)
    write_from_another_process(tmp_path / "helpers.py", "SCALE = 3\n")
    await wait_until(
        lambda: any("changed on disk: helpers.py" in m.message for m in editor.client.log_messages),
        30,
        "the change",
    )
    state = await editor.command("kernelwright.debugState")
    assert state["jobs"] == []
    assert profiled_count(editor, "scaled") == 1


async def test_save_re_profiles_when_auto_profile_is_on_save(start_editor: StartEditor) -> None:
    editor = await start_editor(init_options=SETTINGS)
    (editor.root / "helpers.py").write_text(HELPERS)
    uri = editor.open("main.py", MAIN)
    await editor.command("kernelwright.profile", {"uri": uri, "site": "scaled"})
    await measured(editor, uri)
    editor.save(uri)
    await wait_until(lambda: profiled_count(editor, "scaled") == 2, DEADLINE, "a profile after save")


async def test_edits_re_profile_when_auto_profile_is_on_change(start_editor: StartEditor) -> None:
    editor = await start_editor(init_options={**SETTINGS, "autoProfile": "onChange"})
    (editor.root / "helpers.py").write_text(HELPERS)
    uri = editor.open("main.py", MAIN)
    await editor.command("kernelwright.profile", {"uri": uri, "site": "scaled"})
    await measured(editor, uri)
    # Three quick keystrokes inside the site: one debounced re-profile, of the edited text.
    for col in (12, 12, 12):
        editor.edit(uri, types.Range(start=types.Position(11, col), end=types.Position(11, col)), " ")
    await wait_until(lambda: profiled_count(editor, "scaled") >= 2, DEADLINE, "a profile after the edits")
    titles = await editor.lens_titles(uri)
    assert not any("(stale)" in t for t in titles)
