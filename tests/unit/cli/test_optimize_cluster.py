"""`--cluster` on bench, verify and optimize (issue 6): the flag, the KERNELWRIGHT_CLUSTER setting, and
the path through engine.backends.make_pool, with real CPU workers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from kernelwright.cli import common as cli_common
from kernelwright.cli import main
from kernelwright.cli import optimize as cli_optimize
from kernelwright.engine import backends
from kernelwright.engine.backends import EnginePool
from kernelwright.engine.config import WorkerConfig

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

PROBLEM = """import torch


def make_inputs():
    return (torch.randn(64),)


# kernelwright: bench inputs=make_inputs
def double(x):
    return x * 2
"""

# The builtin search has nothing to try on a function that is already compiled, so optimize starts its
# pool and ends without running a job: the cluster plumbing, without a cold torch.compile.
COMPILED = """import torch


def make_inputs():
    return (torch.randn(64),)


# kernelwright: bench inputs=make_inputs
@torch.compile
def double(x):
    return x * 2
"""


@pytest.fixture
def problem(tmp_path: Path) -> Path:
    path = tmp_path / "double.py"
    path.write_text(PROBLEM)
    return path


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The cluster each verb asked make_pool for; the pool itself is the local one (no Ray here)."""
    seen: list[str] = []
    real = backends.make_pool

    def recording(
        cluster: str, devices: str | Sequence[str] = "auto", config: WorkerConfig | None = None, **kw: Any
    ) -> EnginePool:
        seen.append(cluster)
        backends.parse_cluster(cluster)
        return real("local", devices, config, **kw)

    monkeypatch.setattr(cli_common, "make_pool", recording)
    monkeypatch.setattr(cli_optimize, "make_pool", recording)
    monkeypatch.delenv("KERNELWRIGHT_CLUSTER", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    return seen


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    return str(json.loads(capsys.readouterr().out)["error"]["message"])


@pytest.mark.parametrize("verb", ["bench", "verify", "optimize"])
def test_an_unknown_cluster_is_a_usage_error_naming_the_accepted_forms(
    verb: str, problem: Path, asked: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(problem), str(problem)] if verb == "verify" else [str(problem)]
    assert main([verb, *files, "--cluster", "slurm", "--device", "cpu", "--json"]) == 2
    message = _error(capsys)
    assert "unknown cluster `slurm`" in message and "ray://HOST:PORT" in message
    assert asked == [], "no pool may start for a bad flag"


def test_a_bad_cluster_setting_is_reported_like_the_flag(
    problem: Path, asked: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KERNELWRIGHT_CLUSTER", "ray://no-port")
    assert main(["bench", str(problem), "--device", "cpu", "--json"]) == 2
    assert "unknown cluster `ray://no-port`" in _error(capsys)


def test_bench_goes_through_make_pool_with_the_flag(
    problem: Path, asked: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["bench", str(problem), "--cluster", "ray://head:10001", "--device", "cpu", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0, doc
    assert asked == ["ray://head:10001"]
    assert doc["measurement"]["timing"]["median_us"] > 0


def test_verify_takes_the_setting_and_the_flag_wins_over_it(
    problem: Path, asked: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KERNELWRIGHT_CLUSTER", "ray")
    assert main(["verify", str(problem), str(problem), "--device", "cpu", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passed"] is True
    assert (
        main(["verify", str(problem), str(problem), "--device", "cpu", "--cluster", "local", "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["passed"] is True
    assert asked == ["ray", "local"]


def test_optimize_goes_through_make_pool(
    tmp_path: Path, asked: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".kernelwright").mkdir()  # the store stays in the test's folder
    path = tmp_path / "compiled.py"
    path.write_text(COMPILED)
    code = main(["optimize", str(path), "--cluster", "local", "--device", "cpu", "--json"])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0, events
    assert asked == ["local"]
    done = events[-1]
    assert done["kind"] == "done" and done["result"]["status"] == "no_improvement", done
    assert any("already under torch.compile" in e.get("message", "") for e in events)


def test_without_ray_address_auto_is_the_local_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert cli_common.cluster_label("auto") == ""
    assert cli_common.cluster_label("ray://head:10001") == " (Ray at ray://head:10001)"
