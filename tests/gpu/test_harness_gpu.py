"""The harness on a real GPU: side-stream timing, NaN poisoning on the caching allocator, NVRTC launch,
agreement with triton.testing.do_bench. Run on the device machine: `pytest -q tests/gpu -m gpu`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kernelwright.core.jobs import BenchJob, BenchOptions, CandidateRef, ProblemRef, VerifyJob
from kernelwright.core.jsonable import to_json
from kernelwright.core.site import SiteKind
from unit.harness.jobs_subprocess import ADVERSARIAL, run_jobs
from unit.harness.test_adversarial import GELU, SOFTMAX
from unit.harness.test_cuda_compile_only import GOOD, SPEC

pytestmark = pytest.mark.gpu
OPTS = BenchOptions(compile_baseline=False, max_time_s=2.0, profile_lines=False)


def _verify(ref: ProblemRef, name: str, timed: bool = False) -> tuple[str, Any]:
    path = ADVERSARIAL / name
    job = VerifyJob(
        ref, CandidateRef(str(path), path.read_text()), device="cuda", time_candidate=timed, options=OPTS
    )
    return ("verify", to_json(job))


def test_cheats_on_cuda() -> None:
    side, dropped, honest, fp16 = run_jobs(
        [
            _verify(SOFTMAX, "cheat_side_stream.py", timed=True),
            _verify(SOFTMAX, "cheat_dropped_rows.py"),
            _verify(SOFTMAX, "honest_softmax.py", timed=True),
            _verify(GELU, "cheat_fp16_downgrade.py"),
        ]
    )
    assert side["check"] == "timing", side["message"]
    assert "suspicious_timing" in side["flags"]
    assert dropped["check"] == "unwritten", dropped["message"]  # the caching allocator's poison is reliable
    assert honest["passed"], honest["message"]
    m = honest["measurement"]
    assert m["timing"]["method"] == "cuda_events" and m["timing"]["l2_flushed"]
    assert m["roofline"] is not None and 0 < m["roofline"]["fraction"] <= 1.1
    assert fp16["check"] == "precision"


def test_nvrtc_launch_of_a_cu_kernel(tmp_path: Path) -> None:
    src = tmp_path / "scale.cu"
    src.write_text(GOOD)
    ref = ProblemRef(str(src), GOOD, "scale", SiteKind.CUDA_KERNEL, SPEC)
    wrong = GOOD.replace("2.0f * x[i]", "3.0f * x[i]")
    bench, same, bad = run_jobs(
        [
            ("bench", to_json(BenchJob(ref, device="cuda", options=OPTS))),
            ("verify", to_json(VerifyJob(ref, CandidateRef(str(src), GOOD), device="cuda"))),
            ("verify", to_json(VerifyJob(ref, CandidateRef(str(src), wrong), device="cuda"))),
        ]
    )
    assert bench["measurement"]["timing"]["median_us"] > 0, bench
    assert same["passed"], same["message"]
    assert bad["check"] == "value"


def test_agrees_with_do_bench_and_l2_flush_matters() -> None:
    code = r"""
import json, torch, triton.testing
from kernelwright.harness.device import resolve
from kernelwright.harness.timing import TimingPlan, time_cuda
t = resolve("cuda")
x = torch.randn(1 << 22, device="cuda")  # 16 MiB: fits in an H100's 50 MiB L2
ours = time_cuda(lambda a: torch.softmax(a[0], -1), [(x,)], t, TimingPlan(repeats=200)).median_us
theirs = triton.testing.do_bench(lambda: torch.softmax(x, -1), rep=200, return_mode="median") * 1000
print(json.dumps({"ours": ours, "theirs": theirs}))
"""
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    # do_bench also flushes L2 (256 MB write): the medians should agree within 15% (ours adds a full sync).
    assert abs(r["ours"] - r["theirs"]) / r["theirs"] < 0.15, r


@pytest.mark.parametrize("form", ["driver", "runtime"])
def test_a_persisting_window_reads_faster_only_without_the_reset(form: str) -> None:
    """The persisting-L2 cheats (docs/PITFALLS.md 5) in the timing loop itself: with the reset before each
    flush they time like torch's row sum, which they call; with the reset taken away (the control) their
    input stays in L2 through the flush and they read faster. Without the control's gap the test could
    not tell a reset that works from a pin that never took."""
    code = rf"""
import importlib.util, json, torch
from kernelwright.harness import timing
from kernelwright.harness.device import resolve
from kernelwright.harness.timing import TimingPlan, time_cuda
spec = importlib.util.spec_from_file_location("cheat", {str(ADVERSARIAL / f"cheat_persisting_l2_{form}.py")!r})
cheat = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cheat)
t = resolve("cuda")
x = torch.randn(1024, 6144, device="cuda")  # 24 MiB, as row_sum_reference.make_inputs
plan = TimingPlan(repeats=300)
plain = time_cuda(lambda a: a[0].sum(-1), [(x,)], t, plan)
pinned = time_cuda(lambda a: cheat.row_sum(a[0]), [(x,)], t, plan)
real = timing.persisting_l2
timing.persisting_l2 = lambda: "taken away by the test"
unreset = time_cuda(lambda a: cheat.row_sum(a[0]), [(x,)], t, plan)
timing.persisting_l2 = real
print(json.dumps({{"plain": plain.median_us, "pinned": pinned.median_us, "unreset": unreset.median_us,
                  "note": timing.l2_note(unreset), "reset_note": pinned.l2_not_reset,
                  "set_aside": pinned.l2_set_aside_removed, "pinned_note": timing.l2_note(pinned)}}))
"""
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(r)
    assert r["reset_note"] == "", r
    assert r["unreset"] < 0.85 * r["plain"], r  # the control: the pin works when nothing resets it
    # The reset undoes it: no faster than the softmax it calls (the pin's own calls may cost it a little).
    assert r["pinned"] > 0.95 * r["plain"], r
    assert r["note"] is not None and "taken away by the test" in r["note"]
    assert r["set_aside"] > 0 and "set aside" in r["pinned_note"], r  # the measurement names the set-aside
