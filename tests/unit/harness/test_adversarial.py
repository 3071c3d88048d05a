"""Every cheat in samples/adversarial is rejected (or flagged) by the check its docstring names, and every
honest rewrite passes. On the CPU, in one fresh process per suite."""

from __future__ import annotations

from typing import Any

import pytest
from kernelwright.core.jobs import CandidateRef, ProblemRef, VerifyJob
from kernelwright.core.jsonable import to_json
from kernelwright.core.site import FunctionSpec, ModuleSpec, SiteKind
from unit.harness.jobs_subprocess import ADVERSARIAL, run_jobs


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

# candidate file -> (reference, expected failed check or None for a pass, expected flag or None)
CASES: dict[str, tuple[ProblemRef, str | None, str | None]] = {
    "honest_softmax.py": (SOFTMAX, None, None),
    "honest_gelu.py": (GELU, None, None),
    "cheat_zeros.py": (SOFTMAX, "error_norm", None),
    "cheat_replay_address.py": (SOFTMAX, "replay", None),
    "cheat_replay_first.py": (SOFTMAX, "replay", None),
    "cheat_input_mutation.py": (SOFTMAX, "input_mutation", None),
    "cheat_fp16_downgrade.py": (GELU, "precision", "precision_downgrade"),
    "cheat_clock_patch.py": (GELU, "tamper", "tamper"),
    "cheat_clock_patch_hidden.py": (GELU, "tamper", "tamper"),
    # glibc may hand back fresh (zeroed) pages or other stale chunks instead of the poisoned one: then the
    # row fails the norm or the values. On CUDA's caching allocator the poison is reliable (tests/gpu asserts "unwritten" there).
    "cheat_dropped_rows.py": (SOFTMAX, "unwritten|error_norm|value", None),
    "cheat_lazy_tensor.py": (SOFTMAX, "lazy_output", None),
    "cheat_reference_fallback.py": (SOFTMAX, None, "fallback"),
    # GPU-only cheat: on the CPU there is no side stream, so it is simply correct (tests/gpu covers it).
    "cheat_side_stream.py": (SOFTMAX, None, None),
}


@pytest.fixture(scope="module")
def verdicts() -> dict[str, Any]:
    jobs = []
    for name, (ref, _, _) in CASES.items():
        path = ADVERSARIAL / name
        jobs.append(("verify", to_json(VerifyJob(ref, CandidateRef(str(path), path.read_text())))))
    replies = run_jobs(jobs, env={"TRITON_INTERPRET": "1"})
    return dict(zip(CASES, replies, strict=True))


def test_every_cheat_file_is_covered() -> None:
    files = {p.name for p in ADVERSARIAL.glob("cheat_*.py")} | {
        p.name for p in ADVERSARIAL.glob("honest_*.py")
    }
    files.discard("honest_softmax_triton.py")  # tested under the interpreter below
    assert files == set(CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_verdict(verdicts: dict[str, Any], name: str) -> None:
    _, check, flag = CASES[name]
    v = verdicts[name]
    if check is None:
        assert v["passed"], v["message"]
        assert v["check"] is None
    else:
        assert not v["passed"]
        assert v["check"] in check.split("|"), v["message"]
        assert v["message"].startswith(v["check"]), "the message names the check"
    if flag is not None:
        assert flag in v["flags"]
    assert "cpu_only" in v["flags"] or v["check"] == "tamper"


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
