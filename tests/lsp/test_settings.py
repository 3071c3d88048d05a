"""Settings from initializationOptions and workspace/configuration; bad ones are named, never fatal."""

from __future__ import annotations

from lsp.editor_support import StartEditor, wait_until
from lsprotocol import types

SOURCE = """import torch


def make_inputs():
    return (torch.randn(4),)


# kernelwright: bench inputs=make_inputs
def double(x):
    return x * 2
"""


async def test_a_malformed_settings_object_is_named_and_the_server_keeps_working(
    start_editor: StartEditor,
) -> None:
    editor = await start_editor(
        init_options={"provider": "gpt-9000", "budgets": {"rounds": "many"}, "debounceMs": 10, "colour": 1}
    )
    messages = await wait_until(
        lambda: len(editor.messages()) >= 3 and editor.messages(), what="three messages"
    )
    text = "\n".join(messages)
    assert "`provider`" in text and "using 'builtin'" in text
    assert "`budgets.rounds`" in text and "using 4" in text
    assert "`colour`" in text and "unknown key" in text
    assert all(m.type == types.MessageType.Warning for m in editor.client.messages)
    # Still serving, with the valid key applied.
    uri = editor.open("double.py", SOURCE)
    assert "Profile" in await editor.lens_titles(uri)
    state = await editor.command("kernelwright.debugState")
    assert state["loaded"] == []


async def test_not_an_object_at_all(start_editor: StartEditor) -> None:
    editor = await start_editor(init_options=["provider", "anthropic"])
    (message,) = await wait_until(lambda: editor.messages(), what="a message")
    assert "wanted an object" in message and "defaults" in message


async def test_workspace_configuration_is_pulled_and_re_pulled_on_change(start_editor: StartEditor) -> None:
    editor = await start_editor(configuration={"kernelwright": {"debounceMs": 20, "device": "cpu"}})
    uri = editor.open("double.py", SOURCE)
    assert "Profile" in await editor.lens_titles(uri)
    # A bad value arrives later: the server re-pulls on didChangeConfiguration and names it.
    editor.client.set_configuration({"device": "tpu:0"}, section="kernelwright")
    editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    message = await wait_until(
        lambda: next((m for m in editor.messages() if "`device`" in m), None), what="the device message"
    )
    assert "tpu:0" in message and "cuda:N" in message
