"""The builtin search on the samples: what it rewrites, and how its rounds narrow around the best."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from kernelwright.analysis import analyze
from kernelwright.core.measure import DeviceKind
from kernelwright.core.site import CudaSpec, Site
from kernelwright.optimize.loop import expected_symbol, site_text
from kernelwright.optimize.providers.builtin import BuiltinProvider
from kernelwright.optimize.request import CandidateFeedback, DeviceFacts, Outcome, ProposalRequest

ROOT = Path(__file__).resolve().parents[3]
GPU = DeviceFacts("NVIDIA H100 80GB HBM3", DeviceKind.CUDA, sm_count=132)
CPU = DeviceFacts("CPU (test)", DeviceKind.CPU)


def _request(
    rel: str,
    name: str,
    round: int = 1,
    count: int = 4,
    history: tuple[CandidateFeedback, ...] = (),
    device: DeviceFacts = GPU,
) -> tuple[str, Site, ProposalRequest]:
    path = ROOT / rel
    text = path.read_text()
    site = analyze(text, str(path)).site(name)
    assert site is not None and site.spec is not None
    req = ProposalRequest(
        site,
        str(path),
        site_text(text, site),
        text,
        site.spec.convention,
        expected_symbol(site),
        device,
        round,
        count,
        history,
    )
    return text, site, req


async def test_triton_launch_keywords_are_rewritten_and_the_file_still_parses() -> None:
    text, _, req = _request("samples/triton/vector_add.py", "add")
    proposal = await BuiltinProvider().propose(req)
    assert len(proposal.candidates) == 4
    blocks = set()
    for cand in proposal.candidates:
        assert cand.file_text is not None and cand.source == cand.file_text
        ast.parse(cand.file_text)
        (launch,) = [line for line in cand.file_text.splitlines() if "add_kernel[grid]" in line]
        assert "BLOCK=16," not in launch
        blocks.add(launch)
        # Nothing but the launch line changes.
        assert [a for a, b in zip(text.splitlines(), cand.file_text.splitlines(), strict=True) if a != b] == [
            "    add_kernel[grid](x, y, out, n, BLOCK=16, num_warps=4)"
        ]
    assert len(blocks) == 4
    assert any("BLOCK=1024" in b for b in blocks)  # the spread reaches the sizes that fill a GPU


async def test_rounds_narrow_around_the_fastest_measured_configuration() -> None:
    provider = BuiltinProvider()
    _, _, first_req = _request("samples/triton/vector_add.py", "add")
    first = await provider.propose(first_req)
    by_block = {c.id: c for c in first.candidates}
    fastest = next(c for c in first.candidates if "BLOCK=1024" in (c.file_text or ""))
    history = (
        *(
            CandidateFeedback(
                cid, 1, Outcome.PASSED, "passed", median_us=50.0 if cid == fastest.id else 200.0
            )
            for cid in by_block
        ),
        CandidateFeedback("r1-original", 1, Outcome.PASSED, "passed", median_us=900.0),
    )
    _, _, second_req = _request("samples/triton/vector_add.py", "add", round=2, history=history)
    second = await provider.propose(second_req)
    launches = [
        next(line for line in c.file_text.splitlines() if "add_kernel[grid]" in line)
        for c in second.candidates
        if c.file_text
    ]
    assert launches, second.notes
    # One step from BLOCK=1024, num_warps=4 on one axis: 512 or 2048, or 2 or 8 warps.
    for launch in launches:
        assert ("BLOCK=1024" in launch) != any(f"BLOCK={b}," in launch for b in (512, 2048))
    assert not set(second.candidates) & set(first.candidates)
    assert all(c.id.startswith("r2-") for c in second.candidates)


async def test_autotuned_kernels_get_a_new_config_in_front_of_the_persons_list() -> None:
    text, _, req = _request("samples/triton/swiglu_autotuned.py", "swiglu")
    proposal = await BuiltinProvider().propose(req)
    assert proposal.candidates
    for cand in proposal.candidates:
        assert cand.file_text is not None
        tree = ast.parse(cand.file_text)
        kernel = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "swiglu_kernel")
        configs = next(d for d in kernel.decorator_list if isinstance(d, ast.Call)).keywords[0].value
        assert isinstance(configs, ast.List) and len(configs.elts) == 4  # the person's three are kept
        assert ast.unparse(configs.elts[0]) not in text


async def test_cuda_block_search_rewrites_grid_and_block_together() -> None:
    _, _, req = _request("samples/cuda/row_sum_uncoalesced.cu", "row_sum")
    proposal = await BuiltinProvider().propose(req)
    assert proposal.candidates
    for cand in proposal.candidates:
        spec = analyze(cand.source, "c.cu").site("row_sum").spec
        assert isinstance(spec, CudaSpec)
        (block,) = spec.block
        assert spec.grid == (f"(rows+{int(block) - 1})/{block}",)
        assert block != "128"


async def test_a_grid_that_does_not_follow_the_block_is_left_alone_with_a_reason() -> None:
    _, _, req = _request("samples/cuda/block_reduce_sum.cu", "block_sum")
    proposal = await BuiltinProvider().propose(req)
    assert proposal.candidates == ()
    assert "does not cover its extent" in proposal.notes[0]


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        (GPU, ["torch-ops", "compile-default", "compile-max-autotune", "compile-reduce-overhead"]),
        (CPU, ["torch-ops", "compile-default", "compile-max-autotune", "compile-fullgraph"]),
    ],
)
async def test_torch_sites_get_their_rewrites_then_each_compile_mode_once(
    device: DeviceFacts, expected: list[str]
) -> None:
    provider = BuiltinProvider()
    _, _, req = _request("samples/pytorch/softmax_unfused.py", "Model", count=4, device=device)
    first = await provider.propose(req)
    assert [c.id.split("-builtin-")[1] for c in first.candidates] == expected
    for cand in first.candidates:
        assert cand.source.rstrip().endswith("ModelNew = Model")
    assert "torch.softmax(x, dim=1)" in (first.candidates[0].file_text or "")
    assert all("@torch.compile" in (c.file_text or "") for c in first.candidates[1:])
    rest = await provider.propose(req)
    assert [c.id.split("-builtin-")[1] for c in rest.candidates] == (
        ["compile-fullgraph", "cuda-graph"] if device.is_gpu else []
    )
    if device.is_gpu:
        assert "@_kw_cuda_graph" in (rest.candidates[1].file_text or "")
        rest = await provider.propose(req)
    assert rest.candidates == () and "every rewrite and compile mode" in rest.notes[0]


async def test_function_sites_are_decorated_below_the_directive() -> None:
    _, _, req = _request("samples/pytorch/bias_gelu_function.py", "bias_gelu", count=1)
    (cand,) = (await BuiltinProvider().propose(req)).candidates
    lines = (cand.file_text or "").splitlines()
    at = lines.index("@torch.compile")
    assert lines[at - 1].startswith("# kernelwright: bench") and lines[at + 1].startswith("def bias_gelu")


def test_dot_kernels_start_from_known_good_tiles_and_big_tiles_need_more_warps() -> None:
    from kernelwright.optimize.providers.builtin.space import next_configs
    from kernelwright.optimize.providers.builtin.triton_search import plan_triton

    plan = plan_triton((ROOT / "samples/triton/matmul_small_tiles.py").read_text(), "matmul")
    assert not isinstance(plan, str)
    first = [dict(c) for c in next_configs(plan.space, 3, {}, {plan.space.start})]
    assert len(first) == 3
    assert first[0] == {"BLOCK_M": 128, "BLOCK_N": 256, "BLOCK_K": 64, "num_warps": 8, "num_stages": 3}
    # A 128 x 256 fp32 accumulator tile fits the registers of 8 warps, not of 4.
    big = dict(plan.space.start) | {"BLOCK_M": 128, "BLOCK_N": 256}
    assert plan.space.valid({**big, "num_warps": 8})
    assert not plan.space.valid({**big, "num_warps": 4})


def test_kernels_without_dot_get_no_tile_seeds() -> None:
    from kernelwright.optimize.providers.builtin.triton_search import plan_triton

    plan = plan_triton((ROOT / "samples/triton/vector_add.py").read_text(), "add")
    assert not isinstance(plan, str)
    assert plan.space.seeds == ()
