"""The editor is told at once when candidates cannot be boxed, and debugState says why and how to fix it."""

from __future__ import annotations

import pytest
from kernelwright.engine import confinement
from lsp.editor_support import StartEditor, wait_until

pytestmark = pytest.mark.slow

FAST = {"device": "cpu", "compileBaseline": False, "debounceMs": 50, "autoProfile": "off"}
SOURCE = """import torch


def make_inputs():
    return (torch.randn(8, 8),)


# kernelwright: bench inputs=make_inputs
def double(x):
    return x * 2
"""


async def test_without_a_box_the_person_is_told_with_the_reason_and_the_fix(
    start_editor: StartEditor,
) -> None:
    editor = await start_editor(init_options=FAST, env={confinement.BWRAP_ENV: "/nonexistent/bwrap"})
    state = await editor.command("kernelwright.debugState")
    box = state["confinement"]
    assert box["available"] is False
    assert "/nonexistent/bwrap" in box["reason"] and "apt install bubblewrap" in box["fix"]
    uri = editor.open("double.py", SOURCE)
    await editor.command("kernelwright.profile", {"uri": uri, "site": "double"})  # starts the pool
    (message,) = await wait_until(
        lambda: [m for m in editor.messages() if "cannot be confined" in m],
        what="the box warning",
        timeout=120,
    )
    assert "apt install bubblewrap" in message


@pytest.mark.skipif(not confinement.support().available, reason="no box can be made here")
async def test_debug_state_says_candidates_are_boxed(start_editor: StartEditor) -> None:
    editor = await start_editor(init_options=FAST)
    box = (await editor.command("kernelwright.debugState"))["confinement"]
    assert box["available"] is True and box["mechanism"].startswith("bubblewrap")
