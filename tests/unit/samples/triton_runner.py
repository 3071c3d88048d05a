"""Run Triton samples under the interpreter and compare them with torch; one JSON line per sample.

Run as a script in a fresh process whose environment has TRITON_INTERPRET=1 (the variable is read when
triton is imported, so it cannot be switched on inside a pytest process that may already have imported
triton). Usage: python triton_runner.py SAMPLE.py ...
"""

from __future__ import annotations

import json
import math
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import torch
import torch.nn.functional as F
from support.sample_catalog import load_module, python_directives

# The same math as each sample, written independently in torch: the oracle, keyed by file stem.
ORACLES: dict[str, Callable[..., torch.Tensor]] = {
    "vector_add": lambda x, y: x + y,
    "row_softmax": lambda x: torch.softmax(x, dim=1),
    "matmul_small_tiles": lambda a, b: (a.float() @ b.float()).to(a.dtype),
    "swiglu_autotuned": lambda g, u: (F.silu(g.float()) * u.float()).to(g.dtype),
    "layernorm_heuristics": lambda x, w, b: F.layer_norm(x, (x.shape[-1],), w, b, eps=1e-5),
}


def check(path: Path) -> dict[str, object]:
    """Run the sample once per autotune config (all configs must be right, not just the fastest)."""
    from triton.runtime.autotuner import Autotuner

    module = load_module(path)
    tuners = [v for v in vars(module).values() if isinstance(v, Autotuner)]
    if not tuners:
        return check_once(path, module)
    # triton 3.7's autotuner asks the GPU driver for a benchmarker even under the interpreter ("0 active
    # drivers"); with a single config it benchmarks nothing, so narrow each tuner to one config at a time.
    result: dict[str, object] = {"ok": True}
    for tuner in tuners:
        configs = list(tuner.configs)
        try:
            for config in configs:
                tuner.configs = [config]
                tuner.cache.clear()
                result = check_once(path, module)
                if not result["ok"]:
                    return {**result, "config": str(config)}
        finally:
            tuner.configs = configs
    return {**result, "configs_checked": sum(len(t.configs) for t in tuners)}


def check_once(path: Path, module: ModuleType) -> dict[str, object]:
    directives = python_directives(path.read_text())
    if len(directives) != 1:
        return {"ok": False, "error": f"expected one bench directive, found {len(directives)}"}
    directive = directives[0]
    cpu_inputs = directive.get("cpu_inputs")
    if cpu_inputs is None:
        return {"ok": False, "error": "the directive has no cpu_inputs="}
    oracle = ORACLES.get(path.stem)
    if oracle is None:
        return {"ok": False, "error": f"no torch oracle for {path.stem} in triton_runner.ORACLES"}
    torch.manual_seed(0)
    inputs = getattr(module, cpu_inputs)()
    before = [t.clone() for t in inputs]
    got = getattr(module, directive.symbol)(*inputs)
    want = oracle(*before)
    atol = float(directive.get("atol") or 1e-6)
    rtol = float(directive.get("rtol") or 1e-5)
    torch.testing.assert_close(got, want, atol=atol, rtol=rtol)
    for i, (a, b) in enumerate(zip(inputs, before, strict=True)):
        if not torch.equal(a, b):
            return {"ok": False, "error": f"input {i} was modified by the launcher"}
    err = (got.float() - want.float()).abs().max().item()
    return {"ok": True, "max_abs_err": err if math.isfinite(err) else str(err)}


def main(paths: list[str]) -> int:
    if os.environ.get("TRITON_INTERPRET") != "1":
        print("set TRITON_INTERPRET=1 in the environment before running this script", file=sys.stderr)
        return 2
    for p in paths:
        path = Path(p)
        try:
            result = check(path)
        except Exception as exc:  # report the failure per sample, keep checking the others
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        print(json.dumps({"sample": path.name, **result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
