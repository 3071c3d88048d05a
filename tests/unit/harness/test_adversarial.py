"""Every candidate of samples/adversarial (its catalogue, cases.toml) is judged as the catalogue says,
through the real CPU pool: a judge worker that never runs candidate code and a candidate worker that
returns data only (issue 11, docs/PITFALLS.md 23-26). The honest rewrites pass, timed ones with an
interval."""

from __future__ import annotations

import re
from typing import Any

import pytest
from kernelwright.core.jobs import CandidateRef, ProblemRef, VerifyJob
from kernelwright.core.jsonable import from_json, to_json
from kernelwright.core.measure import Verdict
from kernelwright.core.site import FunctionSpec, ModuleSpec, SiteKind
from support.adversarial import load_cases
from unit.harness.jobs_subprocess import ADVERSARIAL, run_jobs

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

CASES = load_cases()


def _ref(name: str, symbol: str, spec: Any, kind: SiteKind) -> ProblemRef:
    path = ADVERSARIAL / name
    return ProblemRef(str(path), path.read_text(), symbol, kind, spec)


SOFTMAX = _ref(
    "softmax_reference.py",
    "row_softmax",
    FunctionSpec("make_inputs", cpu_inputs="make_cpu_inputs"),
    SiteKind.TORCH_FUNCTION,
)
GELU = _ref("gelu_reference.py", "Model", ModuleSpec(), SiteKind.TORCH_MODULE)


@pytest.fixture(scope="module")
def verdicts() -> dict[str, Any]:
    jobs = [("verify", to_json(case.job())) for case in CASES.values()]
    replies = run_jobs(jobs, env={"TRITON_INTERPRET": "1"}, timeout=1200)
    return dict(zip(CASES, replies, strict=True))


def test_every_candidate_file_is_in_the_catalogue() -> None:
    files = {p.name for p in ADVERSARIAL.glob("cheat_*.py")} | {
        p.name for p in ADVERSARIAL.glob("honest_*.py")
    }
    files.discard("honest_softmax_triton.py")  # tested under the interpreter below
    assert files == set(CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_verdict(verdicts: dict[str, Any], name: str) -> None:
    case = CASES[name]
    expected = case.expected["cpu"]
    v = verdicts[name]
    if not expected:
        assert v["passed"], v["message"]
        assert v["check"] is None
        if case.timed:
            verdict = from_json(Verdict, v)
            assert verdict.speedup is not None and verdict.measurement is not None
            assert verdict.speedup.low <= verdict.speedup.ratio <= verdict.speedup.high
    else:
        assert not v["passed"], f"{name} passed: {v['message']}"
        assert re.fullmatch(expected, v["check"]), v["message"]
        assert v["message"].startswith(v["check"]), "the message names the check"
        assert v["measurement"] is None and v["speedup"] is None, "a rejected candidate claims no time"
    if case.flag is not None:
        assert case.flag in v["flags"]
    assert "cpu_only" in v["flags"] or v["check"] == "tamper"


def test_the_docstrings_name_what_catches_them() -> None:
    for name, case in CASES.items():
        doc = (ADVERSARIAL / name).read_text().split('"""')[1]
        if not case.expected["cpu"] or "Caught by:" not in doc:
            continue
        caught = doc.split("Caught by:")[1]
        assert any(check in caught for check in case.expected["cpu"].split("|")), name


def test_a_forged_reply_is_named_as_one(verdicts: dict[str, Any]) -> None:
    for name in ("cheat_forged_reply.py", "cheat_forged_reply_malformed.py"):
        assert "the candidate's process sent a reply the judge did not ask for" in verdicts[name]["message"]


def test_fallback_note_names_the_line(verdicts: dict[str, Any]) -> None:
    notes = verdicts["cheat_reference_fallback.py"]["notes"]
    assert any("line 7" in n and "row_softmax" in n for n in notes), notes


def test_static_tamper_names_line_and_rationale(verdicts: dict[str, Any]) -> None:
    v = verdicts["cheat_clock_patch.py"]
    assert v["line"] == 11  # 0-based: `time.perf_counter = ...` is on line 12
    assert "time.perf_counter" in v["message"] and "measurement" in v["message"]


def test_triton_candidate_under_interpreter_and_refusal() -> None:
    from kernelwright.core.jobs import BenchJob

    triton_path = ADVERSARIAL / "honest_softmax_triton.py"
    refused = _ref("triton_no_cpu_inputs.py", "double", FunctionSpec("make_inputs"), SiteKind.TRITON_LAUNCHER)
    verify_reply, bench_reply, softmax_bench = run_jobs(
        [
            ("verify", to_json(VerifyJob(SOFTMAX, CandidateRef(str(triton_path), triton_path.read_text())))),
            ("bench", to_json(BenchJob(refused))),
            (
                "bench",
                to_json(
                    BenchJob(_ref(triton_path.name, "row_softmax", SOFTMAX.spec, SiteKind.TRITON_LAUNCHER))
                ),
            ),
        ],
        env={"TRITON_INTERPRET": "1"},
    )
    assert verify_reply["passed"], verify_reply["message"]
    assert "interpreter" in verify_reply["flags"]
    assert bench_reply["measurement"] is None
    assert bench_reply["failure"]["stage"] == "refused"
    assert "cpu_inputs=" in bench_reply["failure"]["message"]
    # honest_softmax_triton.py has no factories of its own: the bench fails to load with a clear message
    assert softmax_bench["failure"]["stage"] == "load"
    assert (
        "make_cpu_inputs" in softmax_bench["failure"]["message"]
        or "make_inputs" in softmax_bench["failure"]["message"]
    )
