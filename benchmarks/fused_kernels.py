"""The builtin search's row kernels at samples/suite's sizes, each launch configuration against eager and
torch.compile, in one process on one GPU (a quick look before a suite run; the suite's interleaved
timing is what decides). Needs CUDA, torch and triton.

    python benchmarks/fused_kernels.py [--ops log_softmax,cross_entropy,softmax]

Prints one row per (op, implementation): the median of triton.testing.do_bench (ms -> µs), the speedup
over eager, and the effective bandwidth over the bytes the op must move (read once, write once).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from kernelwright.optimize.providers.builtin.fused_kernels import (
    REQUIRED_IMPORTS,
    FusedOp,
    configs,
    source,
    wrapper_name,
)


def _cases() -> dict[FusedOp, tuple[Callable[..., Any], Callable[[], tuple[Any, ...]], Callable[..., int]]]:
    import torch
    import torch.nn.functional as F

    def logits() -> tuple[Any, ...]:
        return (
            torch.randn(2048, 50257, device="cuda"),
            torch.randint(0, 50257, (2048,), device="cuda"),
        )

    return {
        FusedOp.LOG_SOFTMAX: (
            lambda x: torch.log(F.softmax(x, dim=-1)),
            lambda: (torch.randn(8192, 8192, device="cuda"),),
            lambda x: 2 * x.numel() * x.element_size(),
        ),
        FusedOp.CROSS_ENTROPY: (
            lambda x, t: -F.log_softmax(x, dim=-1).gather(1, t.unsqueeze(1)).squeeze(1).mean(),
            logits,
            lambda x, t: x.numel() * x.element_size(),
        ),
        FusedOp.SOFTMAX: (
            lambda x: torch.softmax(x, dim=-1),
            lambda: (torch.randn(8192, 4096, device="cuda"),),
            lambda x: 2 * x.numel() * x.element_size(),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", default="log_softmax,cross_entropy,softmax")
    args = parser.parse_args()
    import torch
    import triton.testing

    cases = _cases()
    tmp = Path(tempfile.mkdtemp())
    print(f"{torch.cuda.get_device_name()}  torch {torch.__version__}  triton {triton.__version__}")
    print(f"{'op':14} {'implementation':28} {'µs':>9} {'x eager':>8} {'GB/s':>7}")
    for name in args.ops.split(","):
        op = FusedOp(name)
        eager, make, moved = cases[op]
        inputs = make()
        impls: list[tuple[str, Callable[..., Any]]] = [("eager", eager)]
        impls.append(("compile default", torch.compile(eager)))
        impls.append(("compile max-autotune", torch.compile(eager, mode="max-autotune-no-cudagraphs")))
        for config in configs(op):
            path = tmp / f"kw_{op.value}_{config.slug().replace('-', '_')}.py"
            path.write_text("\n".join(REQUIRED_IMPORTS) + "\n\n\n" + source(op, config))
            spec = importlib.util.spec_from_file_location(path.stem, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            impls.append((f"triton {config.slug()}", getattr(module, wrapper_name(op))))
        base = None
        want = eager(*inputs)
        for label, fn in impls:
            got = fn(*inputs)
            ok = torch.allclose(got.float(), want.float(), atol=1e-3, rtol=1e-3)
            ms = triton.testing.do_bench(lambda fn=fn, inputs=inputs: fn(*inputs), warmup=50, rep=300)
            us = ms * 1000
            base = base or us
            gbs = moved(*inputs) / (us * 1e-6) / 1e9
            flag = "" if ok else "  MISMATCH"
            print(f"{op.value:14} {label:28} {us:9.1f} {base / us:8.2f} {gbs:7.0f}{flag}")


if __name__ == "__main__":
    main()
