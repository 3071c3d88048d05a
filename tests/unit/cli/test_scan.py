"""`kernelwright scan`: goldens for every sample, the human table, directory walking, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kernelwright.cli import main

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "data" / "scan"
SAMPLE_DIRS = ("samples/pytorch", "samples/triton", "samples/cuda")


def sample_files() -> list[str]:
    out: list[str] = []
    for d in SAMPLE_DIRS:
        out += sorted(
            str(p.relative_to(ROOT)) for p in (ROOT / d).glob("*") if p.suffix in (".py", ".cu", ".cuh")
        )
    return out


def scan_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["scan", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_every_sample_has_a_golden_and_no_golden_is_stale() -> None:
    samples = set(sample_files())
    goldens = {str(p.relative_to(GOLDEN))[: -len(".json")] for p in GOLDEN.rglob("*.json")}
    assert samples, "samples/ is empty"
    assert samples == goldens


@pytest.mark.parametrize("path", sample_files())
def test_scan_json_matches_golden(
    path: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code, doc = scan_json(capsys, path)
    assert code == 0
    (got,) = doc["files"]
    expected = json.loads((GOLDEN / f"{path}.json").read_text(encoding="utf-8"))
    assert got == expected


def test_directories_are_walked_skipping_tool_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("import torch.nn as nn\nclass M(nn.Module):\n    pass\n")
    (tmp_path / "k.cu").write_text(
        "__global__ void k(float* y, int n) { int i = threadIdx.x; if (i < n) y[i] = 0.0f; }\n"
    )
    (tmp_path / "notes.txt").write_text("not code")
    for skipped in (".git", ".venv", "node_modules"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "x.py").write_text(
            "import torch.nn as nn\nclass Skipped(nn.Module):\n    pass\n"
        )
    code, doc = scan_json(capsys, str(tmp_path))
    assert code == 0
    files = {Path(f["path"]).relative_to(tmp_path).as_posix(): f for f in doc["files"]}
    assert set(files) == {"k.cu", "pkg/a.py"}
    assert files["k.cu"]["language"] == "cuda"
    assert [s["name"] for s in files["pkg/a.py"]["sites"]] == ["M"]
    assert files["pkg/a.py"]["sites"][0]["name_range"] == {
        "start": {"line": 1, "character": 6},
        "end": {"line": 1, "character": 7},
    }


def test_human_table_uses_one_based_positions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "m.py"
    f.write_text(
        "import torch.nn as nn\n\nclass M(nn.Module):\n    def forward(self, x):\n        return x.item()\n"
    )
    code = main(["scan", str(f)])
    out = capsys.readouterr().out
    assert code == 0  # a warning is not a failure
    assert "3:7" in out and "torch_module" in out
    assert "5:16" in out and "KW101 host-sync" in out and "warning" in out
    assert "1 file(s), 1 site(s), 1 finding(s)" in out


def test_error_findings_exit_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "d.py"
    f.write_text("# kernelwright: bench inputs=nowhere\ndef f(x):\n    return x\n")
    code, doc = scan_json(capsys, str(f))
    assert code == 1
    (finding,) = doc["files"][0]["findings"]
    assert finding["rule"] == "KW001"
    assert finding["range"] == {"start": {"line": 0, "character": 29}, "end": {"line": 0, "character": 36}}


def test_missing_file_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = scan_json(capsys, "does/not/exist.py")
    assert code == 2
    assert doc == {"error": {"code": "usage", "message": "does/not/exist.py: no such file or directory"}}
    code = main(["scan", "does/not/exist.py"])
    assert code == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_unsupported_file_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("x")
    code, doc = scan_json(capsys, str(f))
    assert code == 2
    assert "not a Python (.py/.pyi) or CUDA (.cu/.cuh) file" in doc["error"]["message"]
