"""Bad input to the CLI (issue 15): each gets an exit code, a message naming the cause and the fix, one
JSON document with --json (argparse's errors included), and no traceback. Through the real CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from kernelwright.cli import main

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "samples" / "pytorch" / "layernorm_gelu_unfused.py"
KERNELWRIGHT = Path(sys.executable).with_name("kernelwright")

MODULE = """import torch
import torch.nn as nn
{top}

class Model(nn.Module):
    def forward(self, x):
{body}


def get_inputs():
    return [torch.randn(8)]


def get_init_inputs():
    return []
"""


def problem(tmp_path: Path, name: str, body: str, top: str = "") -> Path:
    path = tmp_path / name
    path.write_text(MODULE.format(top=top, body=body), encoding="utf-8")
    return path


def json_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    doc = json.loads(captured.out)  # exactly one document
    assert set(doc) == {"error"}, doc
    assert "Traceback" not in captured.err
    return code, str(doc["error"]["message"])


@pytest.mark.parametrize("verb", ["bench", "optimize", "verify"])
def test_a_directory_where_a_file_is_expected_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, verb: str
) -> None:
    argv = [verb, str(tmp_path)] + ([str(SAMPLE)] if verb == "verify" else [])
    code, message = json_error(capsys, argv)
    assert code == 2
    assert f"{tmp_path}: is a directory; name a .py or .cu file in it" in message


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["bench", str(SAMPLE), "--repeats", "0"], "argument --repeats: must be at least 1, not 0"),
        (["bench", str(SAMPLE), "--repeats", "many"], "argument --repeats: `many` is not a whole number"),
        (
            ["bench", str(SAMPLE), "--timeout", "-1"],
            "argument --timeout: must be a number of seconds above 0",
        ),
        (["verify", str(SAMPLE), str(SAMPLE), "--trials", "0"], "argument --trials: must be at least 1"),
        (["optimize", str(SAMPLE), "--timeout", "0"], "argument --timeout: must be a number of seconds"),
        (["bench"], "the following arguments are required: FILE[:SYMBOL]"),
        (["bench", str(SAMPLE), "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["optimize", str(SAMPLE), "--provider", "gpt"], "argument --provider: invalid choice: 'gpt'"),
    ],
)
def test_argument_errors_are_one_json_document(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, message = json_error(capsys, argv)
    assert code == 2
    assert expected in message and f"see `kernelwright {argv[0]} --help`" in message


def test_argument_errors_on_a_terminal_keep_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", str(SAMPLE), "--repeats", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: kernelwright bench")
    assert "error: kernelwright bench: argument --repeats: must be at least 1, not 0" in err


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        ("time=-5", "budget item `time=-5`: time must be seconds, above 0, e.g. time=600"),
        ("rounds=0", "rounds must be a whole number of rounds, at least 1"),
        ("limit=-1", "limit must be seconds, above 0 (the safety limit)"),
    ],
)
def test_a_bad_budget_names_its_key(capsys: pytest.CaptureFixture[str], budget: str, expected: str) -> None:
    code, message = json_error(capsys, ["optimize", str(SAMPLE), "--budget", budget])
    assert code == 2 and expected in message


def test_help_says_the_default_time_out(capsys: pytest.CaptureFixture[str]) -> None:
    for verb in ("bench", "verify", "optimize"):
        with pytest.raises(SystemExit):
            main([verb, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "(default 600 s)" in text, verb  # under 15 minutes for a verify


def test_a_store_folder_that_is_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".kernelwright").write_text("not a folder")
    sample = tmp_path / SAMPLE.name
    sample.write_text(SAMPLE.read_text())
    code, message = json_error(capsys, ["optimize", str(sample)])
    assert code == 2
    assert f"{tmp_path / '.kernelwright'} is a file" in message and "move the file away" in message


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        (  # malformed: the site is not found at all
            "import torch\n# kernelwright: bench inputs=\ndef f(x):\n    return x * 2\n",
            "KW001 malformed-directive: missing required key `inputs=NAME`",
        ),
        (  # dangling: no def below it
            "import torch\n# kernelwright: bench inputs=make\n\nx = 1\n",
            "KW001 malformed-directive: a bench directive must be on the line directly above",
        ),
        (  # a syntax error hides the site
            "import torch\n# kernelwright: bench inputs=make\ndef f(x:\n    return x * 2\n",
            "KW002 syntax-error",
        ),
    ],
)
@pytest.mark.parametrize("verb", ["bench", "verify", "optimize"])
def test_a_bad_directive_is_named_as_scan_names_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, finding: str, verb: str
) -> None:
    path = tmp_path / "k.py"
    path.write_text(text)
    argv = [verb, str(path)] + ([str(path)] if verb == "verify" else [])
    code, message = json_error(capsys, argv)
    assert code == 2
    assert "because of its errors (as `kernelwright scan" in message
    assert f"{path}:" in message and finding in message
    assert "has nothing to bench" not in message


def test_a_binary_file_is_refused_as_not_text(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "k.py"
    path.write_bytes(b"import torch\n\x00\x01\x02")
    code, message = json_error(capsys, ["bench", str(path)])
    assert code == 2 and "binary, not text (NUL byte at offset 13, line 2)" in message
    path.write_bytes(b"x = '\xe9'\n")
    code, message = json_error(capsys, ["bench", str(path)])
    assert code == 2 and "not UTF-8 text (byte 0xe9" in message


def optimize_json(path: Path, *extra: str) -> tuple[int, list[dict[str, object]], str]:
    proc = subprocess.run(
        [
            str(KERNELWRIGHT),
            "optimize",
            str(path),
            "--device",
            "cpu",
            "--budget",
            "rounds=1,candidates=1",
            "--json",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=path.parent,
    )
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, events, proc.stderr


@pytest.mark.parametrize(
    ("body", "top", "expected", "extra"),
    [
        ("        return x * 2", 'raise RuntimeError("broken at import")', "broken at import", ()),
        ("        os._exit(3)", "import os", "the reference took down the judge's process", ()),
        ("        while True:\n            pass", "", "ran past its time-out", ("--timeout", "8")),
    ],
    ids=["fails-to-load", "os-exit", "hangs"],
)
def test_optimize_of_a_reference_that_fails_is_a_failed_run(
    tmp_path: Path, body: str, top: str, expected: str, extra: tuple[str, ...]
) -> None:
    (tmp_path / ".git").mkdir()
    path = problem(tmp_path, "ref.py", body, top)
    code, events, _ = optimize_json(path, *extra)
    assert code == 1, events
    done = events[-1]
    assert done["kind"] == "done"
    result = done["result"]
    assert isinstance(result, dict) and result["status"] == "failed"
    assert expected in str(result["message"])
    errors = [e for e in events if e["kind"] == "error"]
    assert errors and errors[0]["stage"] == "reference"
    assert "the candidate took down" not in json.dumps(events)


def test_verify_blames_a_reference_that_exits(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ref = problem(tmp_path, "ref.py", "        os._exit(3)", "import os")
    cand = tmp_path / "cand.py"
    cand.write_text(
        "import torch.nn as nn\n\n\nclass ModelNew(nn.Module):\n    def forward(self, x):\n        return x * 2\n"
    )
    code = main(["verify", str(ref), str(cand), "--device", "cpu", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["check"] == "problem"
    assert "the reference took down the judge's process" in doc["verdict"]["message"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_an_unreachable_provider_names_the_url_and_what_set_it(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    sample = tmp_path / SAMPLE.name
    sample.write_text(SAMPLE.read_text())
    url = f"http://127.0.0.1:{closed_port()}/v1"
    code, events, _ = optimize_json(
        sample, "--provider", "openai", "--model", "m", "--base-url", url, "--allow-unconfined"
    )
    assert code == 1
    message = str(events[-1]["result"]["message"])  # type: ignore[index]
    assert f"cannot reach the model server at {url} (set by --base-url" in message


def test_json_piped_into_head_stops_quietly(tmp_path: Path) -> None:
    for n in range(60):  # enough JSON to overflow a pipe's buffer
        (tmp_path / f"k{n}.py").write_text(
            "import torch\n\n# kernelwright: bench inputs=make\ndef f(x):\n    return x * 2\n" * 5
        )
    proc = subprocess.Popen(
        [str(KERNELWRIGHT), "scan", str(tmp_path), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # as `head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
