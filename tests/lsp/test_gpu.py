"""On a GPU: the editor's numbers come from the device (CUDA events), with a roofline, never the CPU.

Run on the GPU machine: `pytest -m gpu tests/lsp/test_gpu.py`. Skipped without CUDA.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp.editor_support import Editor, StartEditor, eventually
from lsprotocol import types

pytestmark = [pytest.mark.gpu, pytest.mark.slow]

DEADLINE = 300.0
GPU_SETTINGS = {"device": "cuda", "autoProfile": "off"}


async def measured_title(editor: Editor, uri: str) -> str:
    async def probe() -> str | None:
        titles = await editor.lens_titles(uri)
        return next((t for t in titles if "roofline" in t), None)

    title: str = await eventually(probe, DEADLINE, "a lens with the GPU measurement")
    return title


@pytest.mark.parametrize(
    ("sample", "site"),
    [("triton/vector_add.py", "add"), ("pytorch/softmax_unfused.py", "Model")],
)
async def test_profile_on_the_gpu_shows_device_time_and_roofline(
    start_editor: StartEditor, samples_dir: Path, sample: str, site: str
) -> None:
    editor = await start_editor(init_options=GPU_SETTINGS)
    text = (samples_dir / sample).read_text()
    uri = editor.open(Path(sample).name, text)
    started = await editor.command("kernelwright.profile", {"uri": uri, "site": site})
    assert started["started"] is True
    title = await measured_title(editor, uri)
    assert "CPU" not in title and "% of" in title  # "183 µs · 97% of memory roofline · H100"
    lines = text.splitlines()
    symbol_line = next(
        i for i, line in enumerate(lines) if line.startswith((f"def {site}(", f"class {site}("))
    )
    hover = await editor.hover(uri, symbol_line, 6)
    assert hover is not None and "cuda_events" in hover and "roofline" in hover
    hints = await editor.client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(0, 0), end=types.Position(len(text.splitlines()), 0)),
        )
    )
    assert hints, "the line profile attributes device time to at least one line"
    state = await editor.command("kernelwright.debugState")
    assert state["loaded"] == []  # the server still never imported torch or triton
