"""`kernelwright optimize` and `kernelwright undo` from the command line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kernelwright.cli import main
from support.scripted_servers import FAST_REPLY, SLOW_REFERENCE, AnthropicServer, Scripted

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)


def _json_error(capsys: pytest.CaptureFixture[str]) -> str:
    doc = json.loads(capsys.readouterr().out)
    return str(doc["error"]["message"])


@pytest.fixture(autouse=True)
def _no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)


def test_usage_errors_exit_2_with_a_json_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    problem = tmp_path / "p.py"
    problem.write_text(SLOW_REFERENCE)
    assert main(["optimize", str(tmp_path / "missing.py"), "--json"]) == 2
    assert "no such file" in _json_error(capsys)
    assert main(["optimize", str(problem), "--budget", "rounds=x", "--json"]) == 2
    assert "`x` is not a whole number" in _json_error(capsys)
    assert main(["optimize", str(problem), "--provider", "openai", "--json"]) == 2
    assert "--base-url" in _json_error(capsys)
    assert main(["optimize", str(problem), "--provider", "anthropic", "--json"]) == 2
    assert "ANTHROPIC_API_KEY" in _json_error(capsys)
    assert main(["optimize", f"{problem}:nothing", "--json"]) == 2
    assert "no site named `nothing`" in _json_error(capsys)


def test_undo_without_an_applied_edit_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    problem = tmp_path / "p.py"
    problem.write_text(SLOW_REFERENCE)
    assert main(["undo", str(problem), "--json"]) == 1
    assert "no applied optimize edit" in _json_error(capsys)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_optimize_apply_report_and_undo_end_to_end(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # the workspace root, where the store goes
    problem = tmp_path / "slow.py"
    problem.write_text(SLOW_REFERENCE)
    report = tmp_path / "report.html"
    with AnthropicServer([Scripted(text=FAST_REPLY)]) as server:
        env = {**os.environ, "ANTHROPIC_API_KEY": "sk-test", "ANTHROPIC_BASE_URL": server.url}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "kernelwright",
                "optimize",
                str(problem),
                "--provider",
                "anthropic",
                "--model",
                "claude-sonnet-5-5",
                "--budget",
                "rounds=1,candidates=1",
                "--device",
                "cpu",
                "--json",
                "--apply",
                "--report",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=200,
            env=env,
            cwd=tmp_path,
        )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = [line["kind"] for line in lines]
    assert kinds[0] == "round_started" and "done" in kinds and kinds[-1] == "applied"
    done = next(line for line in lines if line["kind"] == "done")["result"]
    assert done["status"] == "improved" and done["best_speedup"] > 1.5
    assert done["usage"]["requests"] == 1 and done["usage"]["cost_usd"] > 0
    assert "new_file_text" not in done and done["edits"]
    rewritten = problem.read_text()
    assert "time.sleep" not in rewritten.split("class Model")[1].split("def get_inputs")[0]
    assert "class Model(nn.Module)" in rewritten and "ModelNew" not in rewritten
    page = report.read_text()
    assert "<svg" in page and "improved" in page
    assert (tmp_path / ".kernelwright" / "results.sqlite3").exists()

    undo = subprocess.run(
        [sys.executable, "-m", "kernelwright", "undo", str(problem), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert undo.returncode == 0, undo.stderr + undo.stdout
    assert problem.read_text() == SLOW_REFERENCE


def test_the_progress_line_keeps_moving_while_candidates_compile() -> None:
    import io

    from kernelwright.cli.optimize import Progress
    from kernelwright.cli.output import Output
    from kernelwright.core.candidate import Candidate
    from kernelwright.core.settings import ProviderName
    from kernelwright.optimize.budget import Budget
    from kernelwright.optimize.events import CandidateProposed, RoundStarted

    err = io.StringIO()  # not a terminal: a log, where the live line cannot be redrawn
    view = Progress(Output(json_mode=False, stream=io.StringIO(), err=err), Budget(rounds=1))
    view.show(RoundStarted(1, 1))
    view.show(CandidateProposed(Candidate("r1-compile-default", "x", "ModelNew", ProviderName.BUILTIN, 1)))
    assert "evaluating r1-compile-default for 0 s" in view.text()
    view.HEARTBEAT_S = 0.0

    async def tick_once() -> None:
        task = asyncio.ensure_future(view.tick())
        await asyncio.sleep(1.2)
        task.cancel()

    asyncio.run(tick_once())
    assert (
        "round 1/1 · 0 evaluated · no speedup yet · evaluating r1-compile-default for 1 s" in err.getvalue()
    )
