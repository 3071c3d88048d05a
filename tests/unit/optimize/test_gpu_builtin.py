"""The builtin search must find real speedups on the deliberately slow samples, on a real GPU.

Run on the GPU machine: `pytest -q -m gpu tests/unit/optimize/test_gpu_builtin.py` (skipped without CUDA).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kernelwright.analysis import analyze
from kernelwright.engine.pool import WorkerPool
from kernelwright.optimize.budget import Budget
from kernelwright.optimize.events import Done, OptimizeResult, Status, VerdictReady
from kernelwright.optimize.loop import optimize
from kernelwright.optimize.providers.builtin import BuiltinProvider
from kernelwright.store import Store

ROOT = Path(__file__).resolve().parents[3]


async def _run(
    tmp_path: Path, rel: str, symbol: str, budget: Budget
) -> tuple[OptimizeResult, list[VerdictReady]]:
    src = ROOT / rel
    path = tmp_path / src.name
    shutil.copy(src, path)
    text = path.read_text()
    site = analyze(text, str(path)).site(symbol)
    assert site is not None and site.spec is not None
    verdicts: list[VerdictReady] = []
    result: OptimizeResult | None = None
    with Store.for_workspace(tmp_path) as store:
        async with WorkerPool(["cuda"]) as pool:
            async for event in optimize(
                site, text, str(path), BuiltinProvider(), budget, pool, store, device="cuda"
            ):
                if isinstance(event, VerdictReady):
                    verdicts.append(event)
                    print(event.candidate_id, event.message[:100], event.median_us, event.speedup)
                if isinstance(event, Done):
                    result = event.result
    assert result is not None
    print(result.status, result.message)
    return result, verdicts


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_triton_vector_add_block_search_finds_a_large_speedup(tmp_path: Path) -> None:
    result, verdicts = await _run(
        tmp_path, "samples/triton/vector_add.py", "add", Budget(rounds=3, candidates=12)
    )
    assert sum(1 for v in verdicts if v.verdict is not None and v.verdict.passed) >= 4
    assert result.status is Status.IMPROVED, result.message
    # BLOCK=16 leaves an H100 mostly idle; 1024-4096 elements per program is several times faster.
    assert result.best_speedup is not None and result.best_speedup > 2.0
    assert result.new_file_text is not None and "BLOCK=16," not in result.new_file_text


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_torch_compile_fuses_the_unfused_softmax(tmp_path: Path) -> None:
    result, _ = await _run(
        tmp_path, "samples/pytorch/softmax_unfused.py", "Model", Budget(rounds=1, candidates=4)
    )
    assert result.status is Status.IMPROVED, result.message
    assert result.best_speedup is not None and result.best_speedup > 1.5
    assert result.new_file_text is not None and "@torch.compile" in result.new_file_text


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_cuda_block_search_verifies_its_candidates(tmp_path: Path) -> None:
    result, verdicts = await _run(
        tmp_path, "samples/cuda/row_sum_uncoalesced.cu", "row_sum", Budget(rounds=2, candidates=6)
    )
    passed = [v for v in verdicts if v.verdict is not None and v.verdict.passed and not v.is_baseline]
    assert passed, [v.message for v in verdicts]
    assert result.status in (Status.IMPROVED, Status.NO_IMPROVEMENT)
