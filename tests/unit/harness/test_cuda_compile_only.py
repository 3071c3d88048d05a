"""Without a GPU, a CUDA problem still compiles with `nvcc --ptx` and reports compile errors at their line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kernelwright.core.jobs import BenchJob, CandidateRef, ProblemRef, VerifyJob
from kernelwright.core.jsonable import to_json
from kernelwright.core.site import CudaArgument, CudaParam, CudaParamRole, CudaSpec, SiteKind
from unit.harness.jobs_subprocess import run_jobs

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

GOOD = """// kernelwright: bench n=1024 x=randn(n) out=empty(n) grid=(n+255)/256 block=256
__global__ void scale(const float* x, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = 2.0f * x[i];
}
"""
BAD = GOOD.replace("out[i] = 2.0f * x[i];", "out[i] = 2.0f * y[i];")  # line 4: y is undefined

SPEC = CudaSpec(
    kernel="scale",
    params=(
        CudaParam("x", "const float*", "float", True, True, CudaParamRole.INPUT, "float32"),
        CudaParam("out", "float*", "float", True, False, CudaParamRole.OUTPUT, "float32"),
        CudaParam("n", "int", "int", False, False, CudaParamRole.SCALAR, "int32"),
    ),
    arguments=(
        CudaArgument("n", "1024"),
        CudaArgument("x", "randn(n)", "randn", ("n",)),
        CudaArgument("out", "empty(n)", "empty", ("n",)),
    ),
    grid=("(n+255)/256",),
    block=("256",),
)


@pytest.mark.skipif(
    shutil.which("nvcc") is None and not Path("/usr/local/bin/nvcc").exists(), reason="no nvcc"
)
def test_compile_error_has_its_line_and_good_source_says_no_gpu(tmp_path: Path) -> None:
    good, bad = tmp_path / "scale.cu", tmp_path / "scale_bad.cu"
    good.write_text(GOOD)
    bad.write_text(BAD)
    ref = ProblemRef(str(good), GOOD, "scale", SiteKind.CUDA_KERNEL, SPEC)
    bad_ref = ProblemRef(str(bad), BAD, "scale", SiteKind.CUDA_KERNEL, SPEC)
    replies = run_jobs(
        [
            ("bench", to_json(BenchJob(ref, device="cpu"))),
            ("bench", to_json(BenchJob(bad_ref, device="cpu"))),
            ("verify", to_json(VerifyJob(ref, CandidateRef(str(bad), BAD), device="cpu"))),
        ]
    )
    ok, broken, verdict = replies
    assert ok["failure"]["stage"] == "no_gpu"
    assert "compiles with nvcc" in ok["failure"]["message"]
    assert broken["failure"]["stage"] == "compile"
    assert broken["failure"]["line"] == 3
    assert "scale_bad.cu:4" in broken["failure"]["message"] and "y" in broken["failure"]["log"]
    assert verdict["check"] == "compile" and verdict["line"] == 3
