"""Multi-root workspaces (a store per root) and results offered again after a declined edit."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp.editor_support import Editor, StartEditor, eventually, scripted_model_settings, wait_until
from support.scripted_servers import OpenAIServer, Scripted

pytestmark = pytest.mark.slow

DEADLINE = 240.0

SOURCE = """import torch


def make_inputs():
    return (torch.randn(8, 8),)


# kernelwright: bench inputs=make_inputs
def {name}(x):
    return {body}
"""


async def measured(editor: Editor, uri: str) -> None:
    async def probe() -> bool:
        return any(" · CPU" in t for t in await editor.lens_titles(uri))

    await eventually(probe, DEADLINE, "a measured lens")


async def test_each_root_keeps_its_own_store(start_editor: StartEditor, tmp_path: Path) -> None:
    a, b = tmp_path / "alpha", tmp_path / "beta"
    a.mkdir()
    b.mkdir()
    editor = await start_editor(
        init_options={"device": "cpu", "compileBaseline": False, "autoProfile": "off"}, roots=[a, b]
    )
    uri_a = editor.open("alpha/first.py", SOURCE.format(name="first", body="x + 1"))
    uri_b = editor.open("beta/second.py", SOURCE.format(name="second", body="x - 1"))
    await editor.command("kernelwright.profile", {"uri": uri_a, "site": "first"})
    await editor.command("kernelwright.profile", {"uri": uri_b, "site": "second"})
    await measured(editor, uri_a)
    await measured(editor, uri_b)
    assert (a / ".kernelwright" / "results.sqlite3").is_file()
    assert (b / ".kernelwright" / "results.sqlite3").is_file()
    assert not (tmp_path / ".kernelwright").exists()
    history_a = await editor.command("kernelwright.showHistory", {"uri": uri_a, "site": "first"})
    assert len(history_a["measurements"]) == 1
    # Clearing one file's results leaves the other root's alone.
    await editor.command("kernelwright.clearResults", {"uri": uri_a})
    assert not any(" · CPU" in t for t in await editor.lens_titles(uri_a))
    assert any(" · CPU" in t for t in await editor.lens_titles(uri_b))


SLOW = SOURCE.format(name="double", body="torch.stack([row * 2 for row in x])")
REPLY = "```python\nimport torch\n\n\ndef double(x):\n    return x * 2\n```\n"


async def test_a_declined_result_is_offered_again_by_command(start_editor: StartEditor) -> None:
    with OpenAIServer([Scripted(REPLY)]) as server:
        editor = await start_editor(init_options=scripted_model_settings(server.url))
        editor.accept_edits = False
        uri = editor.open("double.py", SLOW.replace("randn(8, 8)", "randn(256, 64)"))
        await editor.command("kernelwright.optimize", {"uri": uri, "site": "double"})
        message = await wait_until(
            lambda: next((m for m in editor.messages() if "was not applied (declined" in m), None),
            DEADLINE,
            "the declined message",
        )
    result_id = message.split("with '")[1].split("'")[0]
    editor.accept_edits = True
    answer = await editor.command("kernelwright.applyResult", result_id)
    assert answer == {"applied": True, "result": result_id}
    assert len(editor.applied) == 2
    # Applied once: it is no longer waiting.
    again = await editor.command("kernelwright.applyResult", result_id)
    assert again["applied"] is False
