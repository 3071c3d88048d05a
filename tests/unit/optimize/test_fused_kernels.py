"""The fused-kernel source templates: their text, and what it computes under Triton's CPU interpreter.

Each op's source for each of its launch configs is written, with REQUIRED_IMPORTS above it, to a module
file of its own, as the builtin search would splice it into a person's file. One subprocess (torch and
triton take seconds to import) imports them all with TRITON_INTERPRET=1 and compares every wrapper with
the torch expression it replaces on CPU inputs; the tests below read its results.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest
from kernelwright.optimize.providers.builtin.fused_kernels import (
    MAX_ROW,
    REQUIRED_IMPORTS,
    FusedOp,
    LaunchConfig,
    configs,
    source,
    wrapper_name,
)

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

CASES = [(op, config) for op in FusedOp for config in configs(op)]

# Run in the subprocess: argv[1] is a JSON list of [op, slug, module path], argv[2] the results file.
DRIVER = r'''
import importlib.util
import json
import sys

import torch
import torch.nn.functional as F

ATOL, RTOL = 1e-4, 1e-3
SHAPES = [(3, 5, 96), (5, 130)]  # rows of a non-power-of-2 length, 3-D and 2-D, odd row counts


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def calls(op, fn, shape, dtype):
    """(case name, the wrapper's output, the torch reference) for op on inputs of shape and dtype."""
    g = torch.Generator().manual_seed(0)
    n = shape[-1]

    def rand(*s, scale=1.0, shift=0.0):
        return (torch.randn(*s, generator=g) * scale + shift).to(dtype)

    x, y = rand(*shape, scale=3.0), rand(*shape)
    w, b = rand(n, shift=1.0), rand(n)
    if op == "rms_norm":
        ref = lambda w: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * (1 if w is None else w)
        yield "weight", fn(x, w, 1e-6), ref(w)
        yield "no-weight", fn(x, None, 1e-6), ref(None)
    elif op == "layer_norm":
        ref = lambda w, b: F.layer_norm(x, (n,), w, b, 1e-5)
        yield "weight-bias", fn(x, w, b, 1e-5), ref(w, b)
        yield "weight", fn(x, w, None, 1e-5), ref(w, None)
        yield "none", fn(x, None, None, 1e-5), ref(None, None)
    elif op == "softmax":
        yield "plain", fn(x), torch.softmax(x, dim=-1)
    elif op == "log_softmax":
        yield "plain", fn(x), F.log_softmax(x, dim=-1)
        yield "wide-range", fn(x * 30), F.log_softmax(x * 30, dim=-1)  # exp(x) alone would overflow
    elif op == "cross_entropy":
        logits = x.reshape(-1, n)
        t = torch.randint(0, n, (logits.shape[0],), generator=g)
        yield "plain", fn(logits, t), F.cross_entropy(logits, t)
        ignored = t.clone()
        ignored[::3] = -100  # rows that do not count, as F.cross_entropy's default ignore_index
        yield "ignored-rows", fn(logits, ignored), F.cross_entropy(logits, ignored)
        ignored = t.clone()
        ignored[::2] = 7
        yield "ignore-index", fn(logits, ignored, 7), F.cross_entropy(logits, ignored, ignore_index=7)
        long_rows = rand(3, 20000, scale=3.0)  # several steps of every config's block along a row
        t = torch.randint(0, 20000, (3,), generator=g)
        yield "long-rows", fn(long_rows, t), F.cross_entropy(long_rows, t)
    elif op == "silu_mul":
        yield "plain", fn(x, y), F.silu(x) * y
    elif op == "gelu_mul":
        for approximate in ("none", "tanh"):
            yield approximate, fn(x, y, approximate), F.gelu(x, approximate=approximate) * y


def compare(out, ref, atol, rtol):
    err = (out.double() - ref.double()).abs()
    return {
        "shape": list(out.shape) == list(ref.shape),
        "dtype": out.dtype == ref.dtype,
        "max_err": err.max().item(),
        "ok": bool((err <= atol + rtol * ref.double().abs()).all()),
    }


results = {}
modules = json.loads(sys.argv[1])
for i, (op, slug, path) in enumerate(modules):
    fn = getattr(load(path, f"_kw_case_{i}"), "_kw_" + op)
    for shape in SHAPES:
        for case, out, ref in calls(op, fn, shape, torch.float32):
            results[f"{op}/{slug}/{case}/{shape}"] = compare(out, ref, ATOL, RTOL)
    first = not any(k.startswith(op + "/") and "float16" in k for k in results)
    if first:  # the half types once an op: the dtype is kept, the values close to torch's own
        for dtype in (torch.float16, torch.bfloat16):
            for case, out, ref in calls(op, fn, SHAPES[0], dtype):
                results[f"{op}/{slug}/{case}/{dtype}"] = compare(out, ref, 5e-2, 5e-2)
    too_long = torch.zeros(2, 65537)
    args = {"rms_norm": (too_long, None, 1e-6), "layer_norm": (too_long, None, None, 1e-5)}
    args.update({"softmax": (too_long,), "silu_mul": (too_long, too_long), "gelu_mul": (too_long, too_long)})
    args.update({"log_softmax": (too_long,), "cross_entropy": (too_long, torch.zeros(2))})  # float targets
    try:
        fn(*args[op])
        results[f"{op}/{slug}/too-long"] = "no error"
    except ValueError as e:
        results[f"{op}/{slug}/too-long"] = "ValueError: " + str(e)

with open(sys.argv[2], "w") as f:
    json.dump(results, f)
'''


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("fused")
    modules = []
    for op, config in CASES:
        path = tmp / f"kw_{op.value}_{config.slug().replace('-', '_')}.py"
        path.write_text("\n".join(REQUIRED_IMPORTS) + "\n\n\n" + source(op, config))
        modules.append([op.value, config.slug(), str(path)])
    driver = tmp / "driver.py"
    driver.write_text(DRIVER)
    out = tmp / "results.json"
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    run = subprocess.run(
        [sys.executable, str(driver), json.dumps(modules), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    found: dict[str, Any] = json.loads(out.read_text())
    return found


def _ids(case: tuple[FusedOp, LaunchConfig]) -> str:
    return f"{case[0].value}-{case[1].slug()}"


def test_configs_are_small_distinct_search_spaces_with_short_slugs() -> None:
    for op in FusedOp:
        found = configs(op)
        assert 3 <= len(found) <= 5
        slugs = [c.slug() for c in found]
        assert len(set(slugs)) == len(slugs)
        assert all(re.fullmatch(r"[a-z0-9-]+", s) for s in slugs)
    assert LaunchConfig(4).slug() == "w4-r1"
    assert LaunchConfig(8, 2).slug() == "w8-r2"
    assert LaunchConfig(8, block=4096).slug() == "w8-r1-b4096"


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_source_is_self_contained_module_text_with_prefixed_names(case: tuple[FusedOp, LaunchConfig]) -> None:
    op, config = case
    text = source(op, config)
    tree = ast.parse(text)
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert wrapper_name(op) == f"_kw_{op.value}" in defined
    assert all(name.startswith("_kw_") for name in defined)
    assert len(defined) == len(tree.body)  # nothing but the kernel and the wrapper at the top level
    kernels = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.decorator_list]
    assert kernels and all(ast.unparse(k.decorator_list[0]) == "triton.jit" for k in kernels)
    wrapper = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == wrapper_name(op))
    assert ast.get_docstring(wrapper)
    assert f"num_warps={config.num_warps}" in text and f"ROWS_PER_PROGRAM={config.rows_per_program}" in text
    assert config.slug() in text
    assert "$" not in text  # every template field filled
    assert max(len(line) for line in text.splitlines()) <= 110
    # Free names at module level are the imported ones and builtins only.
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert "math" not in names and "F" not in names and "np" not in names


def test_source_rejects_configs_triton_cannot_launch() -> None:
    with pytest.raises(ValueError):
        source(FusedOp.SOFTMAX, LaunchConfig(3))
    with pytest.raises(ValueError):
        source(FusedOp.SOFTMAX, LaunchConfig(4, 0))
    with pytest.raises(ValueError):
        source(FusedOp.CROSS_ENTROPY, LaunchConfig(4, block=3000))


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_kernel_matches_torch_in_float32(results: dict[str, Any], case: tuple[FusedOp, LaunchConfig]) -> None:
    op, config = case
    prefix = f"{op.value}/{config.slug()}/"
    mine = {
        k: v for k, v in results.items() if k.startswith(prefix) and "float32" not in k and "float16" not in k
    }
    mine.pop(prefix + "too-long")
    assert len(mine) >= 2  # both shapes
    bad = {k: v for k, v in mine.items() if not (v["ok"] and v["shape"] and v["dtype"])}
    assert not bad, bad


def test_half_precision_inputs_keep_their_dtype(results: dict[str, Any]) -> None:
    half = {k: v for k, v in results.items() if "float16" in k}
    assert {k.split("/")[0] for k in half} == {op.value for op in FusedOp}
    assert any("bfloat16" in k for k in half)
    bad = {k: v for k, v in half.items() if not (v["ok"] and v["shape"] and v["dtype"])}
    assert not bad, bad


ONE_BLOCK_OPS = [op for op in FusedOp if op is not FusedOp.CROSS_ENTROPY]


@pytest.mark.parametrize("op", ONE_BLOCK_OPS)
def test_a_row_over_the_limit_raises_value_error(results: dict[str, Any], op: FusedOp) -> None:
    for config in configs(op):
        got = results[f"{op.value}/{config.slug()}/too-long"]
        assert got.startswith("ValueError:") and str(MAX_ROW) in got, got


def test_cross_entropy_steps_along_any_row_and_refuses_float_targets(results: dict[str, Any]) -> None:
    for config in configs(FusedOp.CROSS_ENTROPY):
        assert config.block and 2 * config.block < 20000  # the long-rows case takes several steps
        got = results[f"cross_entropy/{config.slug()}/too-long"]
        assert got.startswith("ValueError:") and "int64" in got, got
