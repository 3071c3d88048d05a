"""Profile through the engine's CPU workers: lenses, hover, inlay hints and diagnostics follow results.

The server process itself never imports torch: every run happens in a worker.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp.editor_support import Editor, StartEditor, eventually, wait_until
from lsprotocol import types
from pytest_lsp import client_capabilities

pytestmark = pytest.mark.slow

FAST = {"device": "cpu", "compileBaseline": False, "debounceMs": 50, "autoProfile": "off"}
PROFILE_DEADLINE = 240.0

SOURCE = """import torch


def make_inputs():
    return (torch.randn(64, 64),)


# kernelwright: bench inputs=make_inputs
def double(x):
    return x * 2
"""

CRASHES = """import os

import torch


def make_inputs():
    return (torch.randn(8),)


# kernelwright: bench inputs=make_inputs
def boom(x):
    os.abort()
"""


async def measured_lens(editor: Editor, uri: str) -> list[str]:
    async def probe() -> list[str] | None:
        titles = await editor.lens_titles(uri)
        return titles if any(" · CPU" in t for t in titles) else None

    titles: list[str] = await eventually(probe, PROFILE_DEADLINE, "a lens with the measurement")
    return titles


async def test_profile_shows_the_result_everywhere(start_editor: StartEditor) -> None:
    editor = await start_editor(init_options=FAST)
    uri = editor.open("double.py", SOURCE)
    started = await editor.command("kernelwright.profile", {"uri": uri, "site": "double"})
    assert started["started"] is True
    titles = await measured_lens(editor, uri)
    result = next(t for t in titles if " · CPU" in t)
    assert "µs" in result  # "2.4 µs · CPU": a CPU figure says so
    assert editor.lens_refreshes > 0  # the client was asked to pull lenses again

    hover = await editor.hover(uri, 8, 5)
    assert hover is not None
    assert "| median |" in hover and "CPU" in hover and "stale" not in hover
    # The setting turned torch.compile's baseline off: the hover says so, not only by a missing row.
    assert "torch.compile not timed beside it (the kernelwright.compileBaseline setting is off)" in hover

    hints = await editor.client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(0, 0), end=types.Position(12, 0)),
        )
    )
    assert hints, "the line profile gives at least one hot line"
    assert all("%" in str(h.label) for h in hints)
    assert editor.inlay_refreshes > 0

    # Editing the site makes the measurement stale: the lens and the hover say so.
    editor.edit(uri, types.Range(start=types.Position(9, 15), end=types.Position(9, 16)), "3")
    titles = await editor.lens_titles(uri)
    assert any("(stale)" in t for t in titles)
    hover = await editor.hover(uri, 8, 5)
    assert hover is not None and "stale" in hover

    # The server never loaded torch or triton itself.
    state = await editor.command("kernelwright.debugState")
    assert state["loaded"] == []
    assert state["workers"], "the profile ran in a worker process"
    maps = Path(f"/proc/{state['pid']}/maps").read_text()
    assert "libtorch" not in maps and "libtriton" not in maps


async def test_results_survive_a_restart_through_the_store(start_editor: StartEditor, tmp_path: Path) -> None:
    editor = await start_editor(init_options=FAST)
    uri = editor.open("double.py", SOURCE)
    await editor.command("kernelwright.profile", {"uri": uri, "site": "double"})
    first = await measured_lens(editor, uri)
    assert (tmp_path / ".kernelwright" / "results.sqlite3").is_file()

    again = await start_editor(init_options=FAST)
    uri2 = again.open("double.py", SOURCE)
    titles = await again.lens_titles(uri2)
    assert [t for t in titles if " · CPU" in t] == [t for t in first if " · CPU" in t]
    history = await again.command("kernelwright.showHistory", {"uri": uri2, "site": "double"})
    rows = history["measurements"]
    assert len(rows) == 1 and rows[0]["device"].startswith("CPU") and history["attempts"] == []
    cleared = await again.command("kernelwright.clearResults")
    assert cleared["stored"] == 1
    assert not any(" · CPU" in t for t in await again.lens_titles(uri2))


async def test_a_worker_crash_becomes_a_diagnostic_and_the_next_job_works(start_editor: StartEditor) -> None:
    editor = await start_editor(init_options=FAST)
    bad = editor.open("boom.py", CRASHES)
    await editor.command("kernelwright.profile", {"uri": bad, "site": "boom"})
    diag = await wait_until(
        lambda: next((d for d in editor.diagnostics(bad) if d.code == "KW902"), None),
        PROFILE_DEADLINE,
        "the run-failed diagnostic",
    )
    assert diag.severity == types.DiagnosticSeverity.Error
    assert "boom" in diag.message
    assert any("boom" in m.message and "failed" in m.message for m in editor.client.log_messages)

    good = editor.open("double.py", SOURCE)
    await editor.command("kernelwright.profile", {"uri": good, "site": "double"})
    await measured_lens(editor, good)


async def test_bad_command_arguments_are_answered_with_what_is_expected(start_editor: StartEditor) -> None:
    editor = await start_editor(init_options=FAST)
    uri = editor.open("double.py", SOURCE)
    with pytest.raises(Exception, match="expected one argument"):
        await editor.command("kernelwright.profile", "double")
    with pytest.raises(Exception, match="no site named 'nope'"):
        await editor.command("kernelwright.profile", {"uri": uri, "site": "nope"})


async def test_an_edit_that_changes_results_is_an_error_at_the_next_profile(
    start_editor: StartEditor,
) -> None:
    editor = await start_editor(init_options=FAST)
    uri = editor.open("double.py", SOURCE)
    await editor.command("kernelwright.profile", {"uri": uri, "site": "double"})
    await measured_lens(editor, uri)
    # x * 2 -> x * 3: still runs, but no longer computes what the measured version computed.
    editor.edit(uri, types.Range(start=types.Position(9, 15), end=types.Position(9, 16)), "3")
    await editor.command("kernelwright.profile", {"uri": uri, "site": "double"})
    diag = await wait_until(
        lambda: next((d for d in editor.diagnostics(uri) if d.code == "KW903"), None),
        PROFILE_DEADLINE,
        "the behaviour-changed diagnostic",
    )
    assert diag.severity == types.DiagnosticSeverity.Error
    # Putting the code back clears it at the next profile.
    editor.edit(uri, types.Range(start=types.Position(9, 15), end=types.Position(9, 16)), "2")
    await editor.command("kernelwright.profile", {"uri": uri, "site": "double"})
    await wait_until(
        lambda: not any(d.code == "KW903" for d in editor.diagnostics(uri)),
        PROFILE_DEADLINE,
        "the error cleared",
    )


async def test_views_are_refreshed_only_where_the_client_supports_it(start_editor: StartEditor) -> None:
    # neovim's capability set: inlay hint refresh yes, code lens refresh no.
    editor = await start_editor(init_options=FAST, capabilities=client_capabilities("neovim"))
    uri = editor.open("double.py", SOURCE)
    await editor.command("kernelwright.profile", {"uri": uri, "site": "double"})
    await measured_lens(editor, uri)
    await wait_until(lambda: editor.inlay_refreshes > 0, 10, "an inlay hint refresh")
    assert editor.lens_refreshes == 0
