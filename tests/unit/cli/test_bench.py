"""`kernelwright bench` (and `calibrate`'s no-GPU answer) on this CPU machine, through real workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kernelwright.cli import main

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "samples" / "pytorch" / "fake_quant_class.py"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main([*argv, "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert isinstance(doc, dict)
    return code, doc


def test_bench_a_torch_sample_on_the_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "bench", str(SAMPLE), "--device", "cpu", "--no-compile")
    assert code == 0, doc
    m = doc["measurement"]
    assert isinstance(m, dict)
    assert m["device"]["kind"] == "cpu"
    assert m["baselines"] == []  # --no-compile: no torch.compile baseline, and the figure says so
    assert any("torch.compile not timed beside it (--no-compile)" in n for n in m["notes"]), m["notes"]
    assert m["timing"]["method"] == "cpu_perf_counter"
    assert 0 < m["timing"]["p10_us"] <= m["timing"]["median_us"] <= m["timing"]["p90_us"]
    assert doc["site"] == {"path": str(SAMPLE), "symbol": "GroupFakeQuant", "kind": "bench_class"}


def test_bench_prints_a_table_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    """By default with the torch.compile baseline beside the figure (docs/PITFALLS.md 6)."""
    assert main(["bench", f"{SAMPLE}:GroupFakeQuant", "--device", "cpu"]) == 0
    text = capsys.readouterr().out
    for label in ("median", "p10-p90", "repeats", "device", "CPU timing: not a GPU figure", "torch.compile"):
        assert label in text
    assert "not timed beside it" not in text


def test_a_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, doc = run_json(capsys, "bench", str(tmp_path / "nope.py"))
    assert code == 2
    assert "no such file" in doc["error"]["message"]  # type: ignore[index]


def test_an_unknown_symbol_lists_the_sites(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "bench", f"{SAMPLE}:Nope")
    assert code == 2
    assert "no site named `Nope`" in doc["error"]["message"]  # type: ignore[index]
    assert "GroupFakeQuant" in doc["error"]["message"]  # type: ignore[index]


def test_a_site_without_a_spec_says_how_to_add_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "plain.py"
    path.write_text(
        "import torch\n\n\nclass Scale(torch.nn.Module):\n    def forward(self, x):\n        return x * 2\n"
    )
    code, doc = run_json(capsys, "bench", str(path))
    assert code == 2
    message = doc["error"]["message"]  # type: ignore[index]
    assert "Scale" in message and "kernelwright: bench inputs=" in message


def test_several_benchable_sites_must_be_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "two.py"
    path.write_text(
        "import torch\n\n\ndef make_inputs():\n    return (torch.randn(8),)\n\n\n"
        "# kernelwright: bench inputs=make_inputs\ndef double(x):\n    return x * 2\n\n\n"
        "# kernelwright: bench inputs=make_inputs\ndef triple(x):\n    return x * 3\n"
    )
    code, doc = run_json(capsys, "bench", str(path))
    assert code == 2
    message = doc["error"]["message"]  # type: ignore[index]
    assert f"{path}:double" in message and f"{path}:triple" in message


def test_an_unknown_device_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "bench", str(SAMPLE), "--device", "tpu")
    assert code == 2
    assert "use auto, cpu, cuda or cuda:N" in doc["error"]["message"]  # type: ignore[index]


@pytest.mark.parametrize("verb", ["bench", "calibrate"])
def test_asking_for_a_gpu_that_is_not_there(capsys: pytest.CaptureFixture[str], verb: str) -> None:
    from kernelwright.engine.devices import visible_gpus

    if visible_gpus():
        pytest.skip("this machine has a GPU")
    argv = [verb, str(SAMPLE), "--device", "cuda"] if verb == "bench" else [verb]
    code, doc = run_json(capsys, *argv)
    assert code == 2
    assert "GPU" in doc["error"]["message"] or "not visible" in doc["error"]["message"]  # type: ignore[index]


def test_a_median_of_few_calls_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "bench", str(SAMPLE), "--device", "cpu", "--repeats", "3", "--no-compile")
    assert code == 0, doc
    m = doc["measurement"]
    assert isinstance(m, dict) and m["timing"]["repeats"] == 3
    assert any(n.startswith("the median rests on 3 timed calls") for n in m["notes"]), m["notes"]


def test_a_triton_autotuner_on_the_cpu_is_the_machines_lack(capsys: pytest.CaptureFixture[str]) -> None:
    sample = ROOT / "samples" / "triton" / "swiglu_autotuned.py"
    code, doc = run_json(capsys, "bench", str(sample), "--device", "cpu")
    assert code != 0
    failure = doc["error"]["failure"]  # type: ignore[index]
    assert failure["stage"] == "no_gpu", failure
    assert "autotuner (@triton.autotune)" in failure["message"] and "GPU machine" in failure["message"]
