"""On a CUDA GPU: the samples compute what their docstrings say, at the sizes in their directives.

Skipped without CUDA (tests/conftest.py). The .cu kernels are compiled with NVRTC and launched with
the arguments their directives describe; Triton launchers run on make_inputs; the load_inline sample
builds its extension (slow the first time: about a minute).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from torch import Tensor
    from torch import dtype as TorchDtype
from kernelwright.core.expr import eval_int_expr
from support.sample_catalog import (
    FACTORY,
    CudaDirective,
    SampleFolder,
    cuda_directives,
    launch_dims,
    load_module,
    python_directives,
    sample_files,
    scalar_values,
)

pytestmark = pytest.mark.gpu

torch = pytest.importorskip("torch")
F = torch.nn.functional

CU_FILES = sample_files(SampleFolder.CUDA, ".cu")
TRITON_SAMPLES = sample_files(SampleFolder.TRITON)
RUNNER = Path(__file__).with_name("triton_runner.py")


def _cuda_oracle(kernel: str, env: dict[str, int | float], t: dict[str, Tensor]) -> dict[str, Tensor]:
    """What each .cu kernel's outputs should be, in torch, from its inputs."""
    if kernel == "row_sum":
        return {"out": t["x"].view(int(env["rows"]), int(env["cols"])).sum(dim=1)}
    if kernel == "transpose":
        return {"dst": t["src"].view(int(env["rows"]), int(env["cols"])).t().contiguous().flatten()}
    if kernel == "saxpy":
        return {"out": env["a"] * t["x"] + t["y"]}
    if kernel == "block_sum":
        x = t["x"]
        pad = (-x.numel()) % 512
        return {"partial": F.pad(x, (0, pad)).view(-1, 512).sum(dim=1)}
    if kernel == "sgemm_naive":
        m, n, k = int(env["m"]), int(env["n"]), int(env["k"])
        return {"c": (t["a"].view(m, k) @ t["b"].view(k, n)).flatten()}
    raise AssertionError(f"no oracle for kernel {kernel}: add one to _cuda_oracle")


def _make(factory: str, args: list[int], dtype: TorchDtype) -> Tensor:
    dev = "cuda"
    if factory == "randn":
        return torch.randn(args[0], dtype=dtype, device=dev)
    if factory == "rand":
        return torch.rand(args[0], dtype=dtype, device=dev)
    if factory == "randint":
        return torch.randint(args[0], args[1], (args[2],), dtype=dtype, device=dev)
    if factory == "zeros":
        return torch.zeros(args[0], dtype=dtype, device=dev)
    return torch.full((args[0],), float("nan"), dtype=dtype, device=dev)  # empty: poisoned


def _launch(
    kernel: object,
    grid: tuple[int, int, int],
    block: tuple[int, int, int],
    args: list[ctypes._SimpleCData[Any]],
    smem: int,
) -> None:
    # torch's own launcher passes Python floats as C doubles, which a `float` parameter misreads, so
    # build the argument array here with the C types the kernel declares and call the driver directly.
    libcuda = ctypes.CDLL("libcuda.so.1")
    launch = libcuda.cuLaunchKernel
    launch.argtypes = [ctypes.c_void_p, *[ctypes.c_uint] * 6, ctypes.c_uint, ctypes.c_void_p]
    launch.argtypes += [ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
    params = (ctypes.c_void_p * len(args))(*(ctypes.cast(ctypes.byref(a), ctypes.c_void_p) for a in args))
    stream = torch.cuda.current_stream().cuda_stream
    rc = launch(kernel.func, *grid, *block, smem, stream, params, None)  # type: ignore[attr-defined]
    assert rc == 0, f"cuLaunchKernel returned CUresult {rc}"


def _outputs(d: CudaDirective) -> set[str]:
    """Non-const pointer parameters: what the kernel writes and verification compares."""
    return {
        n
        for n, t in zip(d.params, d.param_types, strict=True)
        if t.endswith("*") and not t.startswith("const")
    }


@pytest.mark.parametrize("path", CU_FILES, ids=lambda p: p.name)
def test_cu_kernel_matches_torch(path: Path) -> None:
    torch.manual_seed(0)
    text = path.read_text()
    for d in cuda_directives(text):
        keys = dict(d.keys)
        env = scalar_values(d)
        tensors: dict[str, Tensor] = {}
        c_args: list[ctypes._SimpleCData[Any]] = []
        for name, ctype in zip(d.params, d.param_types, strict=True):
            m = FACTORY.match(keys[name])
            if m:
                dtype = torch.int32 if ctype.replace("const", "").strip().startswith("int") else torch.float32
                args = [int(v) for v in (eval_int_expr(a, env) for a in m["args"].split(","))]
                tensors[name] = _make(m["name"], args, dtype)
                c_args.append(ctypes.c_void_p(tensors[name].data_ptr()))
            elif ctype == "float":
                c_args.append(ctypes.c_float(float(env[name])))
            else:
                c_args.append(ctypes.c_int(int(env[name])))
        inputs_before = {k: v.clone() for k, v in tensors.items() if k not in _outputs(d)}
        kernel = torch.cuda._compile_kernel(text, d.kernel)
        smem = int(eval_int_expr(keys["smem"], env)) if "smem" in keys else 0
        _launch(kernel, launch_dims(keys["grid"], env), launch_dims(keys["block"], env), c_args, smem)
        torch.cuda.synchronize()
        want = _cuda_oracle(d.kernel, env, inputs_before)
        atol = float(keys.get("atol", 1e-5))
        rtol = float(keys.get("rtol", 1e-5))
        for name, expected in want.items():
            torch.testing.assert_close(tensors[name], expected, atol=atol, rtol=rtol)
        for name, before in inputs_before.items():
            assert torch.equal(tensors[name], before), f"{d.kernel} modified its input {name}"


@pytest.mark.parametrize("path", TRITON_SAMPLES, ids=lambda p: p.name)
def test_triton_sample_matches_torch_at_gpu_size(path: Path) -> None:
    oracles: dict[str, Callable[..., Tensor]] = load_module(RUNNER).ORACLES
    torch.manual_seed(0)
    module = load_module(path)
    (directive,) = python_directives(path.read_text())
    inputs = [t.cuda() for t in getattr(module, directive.get("inputs") or "")()]
    got = getattr(module, directive.symbol)(*inputs)
    want = oracles[path.stem](*inputs)
    atol = float(directive.get("atol") or 1e-5)
    rtol = float(directive.get("rtol") or 1e-5)
    torch.testing.assert_close(got, want, atol=atol, rtol=rtol)


@pytest.mark.slow
def test_load_inline_sample_matches_torch() -> None:
    (path,) = sample_files(SampleFolder.CUDA, ".py")
    module = load_module(path)
    torch.manual_seed(0)
    model = module.Model(*module.get_init_inputs()).cuda()
    (x,) = (t.cuda() for t in module.get_inputs())
    with torch.no_grad():
        got = model(x)
        want = F.gelu(x + model.bias)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
