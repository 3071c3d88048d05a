"""`kernelwright scan`: goldens for every sample, the human table, directory walking, exit codes, files
that are not text, syntax errors, and what a scan compiles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kernelwright.cli import main

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

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


def test_binary_and_non_utf8_files_are_skipped_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.py"
    good.write_text("import torch.nn as nn\nclass M(nn.Module):\n    pass\n")
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"x = 1\n# caf\xe9\n")
    blob = tmp_path / "blob.cu"
    blob.write_bytes(b"\x7fELF\x02\x01\x00\x00")
    os.mkfifo(tmp_path / "pipe.py")  # read, it would block the scan forever
    (tmp_path / "zgone.py").symlink_to(tmp_path / "deleted.py")
    gone = f"{tmp_path / 'zgone.py'}: a symbolic link to a file that does not exist; skipped"
    latin_reason = "not UTF-8 text (byte 0xe9 at offset 11, line 2)"
    blob_reason = "binary, not text (NUL byte at offset 6, line 1)"

    # A directory walk: the text file is scanned, the others skipped; stdout is still one JSON document.
    code, doc = scan_json(capsys, str(tmp_path))
    assert code == 0
    assert [f["path"] for f in doc["files"]] == [str(good)]
    assert doc["files"][0]["sites"][0]["name"] == "M"
    assert doc["skipped"] == [
        {"path": str(blob), "reason": blob_reason},
        {"path": str(latin), "reason": latin_reason},
        {"path": str(tmp_path / "pipe.py"), "reason": "not a regular file (a FIFO, socket or device)"},
        {"path": str(tmp_path / "zgone.py"), "reason": "a symbolic link to a file that does not exist"},
    ]
    code = main(["scan", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.err.splitlines() == [
        f"warning: {blob}: {blob_reason}; skipped",
        f"warning: {latin}: {latin_reason}; skipped",
        f"warning: {tmp_path / 'pipe.py'}: not a regular file (a FIFO, socket or device); skipped",
        f"warning: {gone}",
    ]
    assert "1 file(s), 1 site(s), 0 finding(s), 4 skipped" in captured.out

    # Named alongside a good file it is a warning; named alone there is nothing to report: exit 2.
    assert main(["scan", str(good), str(latin)]) == 0
    assert capsys.readouterr().err == f"warning: {latin}: {latin_reason}; skipped\n"
    code, doc = scan_json(capsys, str(latin))
    assert code == 2
    assert doc == {"files": [], "skipped": [{"path": str(latin), "reason": latin_reason}]}


def test_a_python_syntax_error_is_a_finding_at_its_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "broken.py"
    f.write_text(
        "import torch.nn as nn\n\nclass M(nn.Module):\n    def forward(self, x):\n        return (x\n"
    )
    code, doc = scan_json(capsys, str(f))
    assert code == 1  # a syntax error is an error finding
    (finding,) = doc["files"][0]["findings"]
    assert finding["rule"] == "KW002" and finding["name"] == "syntax-error"
    assert finding["severity"] == "error"
    assert finding["message"] == "syntax error: `(` is never closed"
    assert finding["range"] == {"start": {"line": 4, "character": 8}, "end": {"line": 4, "character": 17}}
    # The rest of the file is still analysed, and the table shows the error one-based.
    assert [s["name"] for s in doc["files"][0]["sites"]] == ["M"]
    assert main(["scan", str(f)]) == 1
    out = capsys.readouterr().out
    assert "5:9  KW002 syntax-error  error     syntax error: `(` is never closed" in out
    # A file that parses has no such finding.
    f.write_text(
        "import torch.nn as nn\n\nclass M(nn.Module):\n    def forward(self, x):\n        return (x)\n"
    )
    code, doc = scan_json(capsys, str(f))
    assert code == 0 and doc["files"][0]["findings"] == []
    # CUDA files get none: tree-sitter does not expand macros, so this valid CUDA parses with errors.
    cu = tmp_path / "macro.cu"
    cu.write_text(
        "#define FOR_EACH(i, n) for (int i = 0; i < (n); ++i)\n"
        "__global__ void k(float* y) { FOR_EACH(i, 4) { y[i] = 0.0f; } }\n"
    )
    code, doc = scan_json(capsys, str(cu))
    assert code == 0 and doc["files"][0]["findings"] == []


# Which grammar each compiled query is for, in a fresh interpreter: after the imports, then after each
# scan of the files named on the command line.
COUNT_QUERIES = """
import json, sys
import tree_sitter

compiled = []
real = tree_sitter.Query

def counting(language, source):
    compiled.append(language.name)
    return real(language, source)

tree_sitter.Query = counting
from kernelwright.cli import main
import kernelwright.analysis, kernelwright.cli.scan
steps = [list(compiled)]
for name in sys.argv[1:]:
    main(["scan", "--json", name])
    steps.append(list(compiled))
print(json.dumps(steps), file=sys.stderr)
"""


def test_queries_are_compiled_on_first_use_per_language(tmp_path: Path) -> None:
    py = tmp_path / "m.py"
    py.write_text("import torch.nn as nn\nclass M(nn.Module):\n    pass\n")
    cu = tmp_path / "k.cu"
    cu.write_text("__global__ void k(float* y, int n) { int i = threadIdx.x; if (i < n) y[i] = 0.0f; }\n")
    proc = subprocess.run(
        [sys.executable, "-c", COUNT_QUERIES, str(py), str(cu), str(py), str(cu)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    imports, after_py, after_cu, again_py, again_cu = json.loads(proc.stderr.strip().splitlines()[-1])
    assert imports == []  # importing the analysis and the CLI compiles nothing
    assert after_py and set(after_py) == {"python"}  # a Python file never compiles CUDA's queries
    assert after_cu[: len(after_py)] == after_py and set(after_cu[len(after_py) :]) == {"cuda"}
    assert again_py == again_cu == after_cu  # the same files again: every query comes from the cache
