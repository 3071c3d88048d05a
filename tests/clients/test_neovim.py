"""A second real client: headless neovim 0.7 (Debian's) drives the server through its own LSP client.

It checks the lenses, a hover and the Optimize code action end to end (neovim applies
the resulting workspace/applyEdit to its buffer). The optimize provider is the OpenAI-compatible one
against a local scripted server: its reply is test input.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.scripted_servers import OpenAIServer, Scripted

pytestmark = [
    pytest.mark.clients,
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("nvim") is None, reason="neovim is not installed (apt-get install neovim)"
    ),
]

INIT = Path(__file__).with_name("neovim_init.lua")

SLOW = """import torch


def make_inputs():
    return (torch.randn(256, 64),)


# kernelwright: bench inputs=make_inputs
def double(x):
    return torch.stack([row * 2 for row in x])
"""

REPLY = "```python\nimport torch\n\n\ndef double(x):\n    return x * 2\n```\n"


def test_neovim_lenses_hover_and_optimize(tmp_path: Path) -> None:
    source = tmp_path / "double.py"
    source.write_text(SLOW)
    out = tmp_path / "nvim.json"
    with OpenAIServer([Scripted(REPLY)]) as server:
        settings = {
            "device": "cpu",
            "compileBaseline": False,
            "autoProfile": "off",
            "provider": "openai",
            "baseUrl": server.url + "/v1",
            "model": "scripted",
            "budgets": {"rounds": 1, "candidates": 1},
        }
        env = {
            **os.environ,
            "KW_PYTHON": sys.executable,
            "KW_FILE": str(source),
            "KW_OUT": str(out),
            "KW_SETTINGS": json.dumps(settings),
            "XDG_STATE_HOME": str(tmp_path / "state"),  # neovim's LSP log goes here, not the home folder
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
        }
        proc = subprocess.run(
            ["nvim", "--headless", "--clean", "-u", str(INIT)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=400,
        )
    assert out.is_file(), f"neovim wrote nothing: rc={proc.returncode} stderr={proc.stderr[-2000:]}"
    seen = json.loads(out.read_text())
    assert "error" not in seen, seen.get("error")
    assert seen["initialized"] is True
    assert seen["offset_encoding"] == "utf-16"
    titles = [lens["title"] for lens in seen["lenses"]]
    assert titles[:2] == ["Profile", "Optimize"]
    assert "no bench spec" not in seen["hover"] and "double" in seen["hover"]
    assert any(a.startswith("Optimize this kernel") for a in seen["actions"])
    assert seen["optimize_started"]["started"] is True
    assert seen["optimize_applied"] is True, seen
    assert "return x * 2" in seen["text_after"] and "torch.stack" not in seen["text_after"]
