"""A loaded problem: something to call, and a way to draw fresh inputs for it, by convention.

- module: `Model(*get_init_inputs())(*get_inputs())`, candidate `ModelNew`, weights made under the same seed.
- function: `symbol(*inputs())`, a class built with `init()`; `cpu_inputs()` on the CPU; Triton launchers
  are functions too.
- cuda: a `__global__` kernel compiled with NVRTC, arguments from the directive's factories, outputs the
  non-const pointers, launched with the directive's grid/block/smem.

Why one module: the three conventions (module, function, CUDA kernel) load, seed and draw their inputs
through the same helpers, so the judge's and the candidate's draws agree; split by convention, each part
would repeat that seeding and device placement.
"""

from __future__ import annotations

import random
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from kernelwright.core.errors import ExpressionError
from kernelwright.core.expr import eval_int_expr
from kernelwright.core.site import (
    BenchSpec,
    CudaParamRole,
    CudaSpec,
    FunctionSpec,
    ModuleSpec,
    SiteKind,
)
from kernelwright.harness import cuda_build
from kernelwright.harness.source import LoadError, load_module, lookup, raised

INIT_SEED = 1234  # weights of Model and ModelNew are drawn under the same seed, as KernelBench does


class RefusedError(Exception):
    """The problem cannot be run here as asked (e.g. GPU-sized inputs under the Triton interpreter)."""


def call_seed(seed: int) -> int:
    """The seed the random generators get right before a call on inputs drawn from `seed`: the reference
    and the candidate (in their own processes) meet the same generator state, so dropout and other
    sampling compare like for like."""
    return (seed * 1_103_515_245 + 12_345) % (2**31 - 1) + 1


def seed_all(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % (2**32))
    except ImportError:
        pass


def to_device(value: Any, device: torch.device) -> Any:
    """Move tensors (nested in tuples, lists and dicts) to `device`; other values are returned as they are."""
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, tuple):
        return tuple(to_device(v, device) for v in value)
    if isinstance(value, list):
        return [to_device(v, device) for v in value]
    if isinstance(value, dict):
        return {k: to_device(v, device) for k, v in value.items()}
    return value


@dataclass
class Problem:
    """One side of a comparison (reference or candidate), ready to call."""

    symbol: str
    spec: BenchSpec
    kind: SiteKind
    path: str
    module: types.ModuleType
    device: torch.device
    # seed -> a fresh argument tuple on `device` (fresh allocations on every call)
    draw: Callable[[int], tuple[Any, ...]]
    # builds the thing to call once (module instance / function / kernel launcher)
    target: Callable[..., Any]
    # seed -> arguments at other shapes, from the directive's `shapes=` factory (the module convention's
    # `get_other_shape_inputs`), named by `shapes_from`; None without one
    draw_shapes: Callable[[int], tuple[Any, ...]] | None = None
    shapes_from: str = ""
    # the factory `draw` calls, for messages
    inputs_from: str = ""
    # For CUDA kernels: argument positions that are outputs (returned after the launch); else empty.
    output_args: tuple[int, ...] = ()
    uses_triton: bool = False
    notes: list[str] = field(default_factory=list)

    def __call__(self, args: Sequence[Any]) -> Any:
        result = self.target(*args)
        if self.output_args:
            outs = tuple(args[i] for i in self.output_args)
            return outs[0] if len(outs) == 1 else outs
        return result


def draw_on(device: torch.device, seed: int, factories: types.ModuleType, name: str, path: str) -> Any:
    """Call the input factory `name` with `seed`, its tensors ending on `device`; then seed every
    generator with `call_seed(seed)`, for the call that follows.

    On a GPU the factory runs with `device` as torch's default device, so `torch.randn(n)` is drawn there
    directly: drawing GPU-sized inputs on the CPU and copying them costs seconds per candidate. A factory
    that cannot run that way (it calls .numpy(), say) is called again on the CPU, and its tensors moved."""
    drawn = _draw(device, seed, factories, name, path)
    seed_all(call_seed(seed))
    return drawn


def _draw(device: torch.device, seed: int, factories: types.ModuleType, name: str, path: str) -> Any:
    if device.type == "cuda":
        seed_all(seed)
        try:
            with torch.device(device):
                return to_device(_call_factory(factories, name, path, "input factory"), device)
        except LoadError:
            raise
        except Exception:
            pass  # retried on the CPU below, where any error of its own is reported
    seed_all(seed)
    try:
        return to_device(_call_factory(factories, name, path, "input factory"), device)
    except LoadError:
        raise
    except Exception as exc:
        raise _factory_error(exc, name, path) from None


def _factory_error(exc: Exception, name: str, path: str) -> Exception:
    """What an input factory's own failure means: the machine's (it wants CUDA, and there is none) or the
    file's (its bug, at its line)."""
    if "CUDA" in str(exc) and not torch.cuda.is_available():
        return RefusedError(
            f"the input factory `{name}` in {path} puts its tensors on CUDA ({type(exc).__name__}: {exc}), "
            f"and this machine has no GPU: run it on a machine with one, or drop the `.cuda()` / "
            f"`device=` from `{name}` (kernelwright moves inputs to the device it runs on)"
        )
    return raised(f"the input factory `{name}`", exc, path)


def _call_factory(module: types.ModuleType, name: str, path: str, what: str) -> Any:
    factory = lookup(module, name, path, what)
    if not callable(factory):
        raise LoadError(f"`{name}` ({what}) is not callable", path)
    return factory()


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if isinstance(value, tuple | list):
        return tuple(value)
    return (value,)


_TRITON_KERNEL_TYPES = {"JITFunction", "InterpretedFunction", "Autotuner", "Heuristics"}


def _mentions_triton(module: types.ModuleType) -> bool:
    """Whether the module defines Triton kernels (jit, interpreted, autotuned or heuristics-wrapped)."""
    for value in vars(module).values():
        cls = type(value)
        if cls.__module__.startswith("triton") and cls.__name__ in _TRITON_KERNEL_TYPES:
            return True
    return False


def build_python_problem(
    *,
    path: str,
    source: str,
    symbol: str,
    spec: ModuleSpec | FunctionSpec,
    kind: SiteKind,
    device: torch.device,
    role: str,
    inputs_module: types.ModuleType | None = None,
) -> Problem:
    """Load a module- or function-convention problem. `inputs_module` supplies the input factories (the
    reference's file) when a candidate file does not define its own."""
    module = load_module(path, source, role)
    factories = module if inputs_module is None else inputs_module
    factories_path = getattr(factories, "__file__", path) or path
    uses_triton = _mentions_triton(module) or kind in (SiteKind.TRITON_LAUNCHER, SiteKind.TRITON_KERNEL)
    interpreted = device.type == "cpu" and uses_triton
    notes: list[str] = []

    if isinstance(spec, ModuleSpec):
        inputs_name, init_name, shapes_name = spec.inputs, spec.init, spec.shapes
        if device.type == "cpu" and (spec.cpu_inputs or spec.cpu_init):
            inputs_name = spec.cpu_inputs or inputs_name
            init_name = spec.cpu_init or init_name
            used = [n for n in (spec.cpu_inputs, spec.cpu_init) if n]
            notes.append(f"CPU run: {' and '.join(f'`{n}`' for n in used)} instead of the GPU sizes")
            # The GPU's other shapes fit the module the GPU sizes construct, and may be as large as them.
            shapes_name = spec.cpu_shapes
            if spec.shapes and not spec.cpu_shapes:
                notes.append(
                    f"CPU run: other shapes not checked (`{spec.shapes}` draws GPU sizes); define "
                    f"get_cpu_other_shape_inputs for small ones"
                )
    else:
        inputs_name, init_name, shapes_name = spec.inputs, spec.init, spec.shapes
        if device.type == "cpu":
            if spec.cpu_inputs:
                inputs_name = spec.cpu_inputs
                notes.append(f"CPU run: inputs from `{spec.cpu_inputs}` (cpu_inputs=)")
            elif interpreted:
                raise RefusedError(
                    f"`{symbol}` launches Triton kernels and this run has no GPU, so it would run under the "
                    f"Triton interpreter with the GPU-sized inputs of `{spec.inputs}`, which can take hours. "
                    f"Add `cpu_inputs=NAME` to its directive (a factory of small inputs), or run on a GPU."
                )

    def draw(seed: int) -> tuple[Any, ...]:
        return _as_tuple(draw_on(device, seed, factories, inputs_name, factories_path))

    draw_shapes: Callable[[int], tuple[Any, ...]] | None = None
    if shapes_name:
        if not hasattr(factories, shapes_name):
            named = f"shapes={shapes_name}" if isinstance(spec, FunctionSpec) else f"`{shapes_name}`"
            raise LoadError(f"the problem names {named}, but the file does not define it", factories_path)
        shapes_factory = shapes_name

        def draw_shapes(seed: int) -> tuple[Any, ...]:
            return _as_tuple(draw_on(device, seed, factories, shapes_factory, factories_path))

    init_args: tuple[Any, ...] = ()
    if init_name and hasattr(factories, init_name):
        seed_all(INIT_SEED)
        init_args = _as_tuple(
            to_device(_call_factory(factories, init_name, factories_path, "init factory"), device)
        )
    elif init_name and isinstance(spec, FunctionSpec):
        raise LoadError(
            f"the directive names init={init_name}, but the file does not define it", factories_path
        )

    obj = lookup(module, symbol, path, "the code to run")
    target: Callable[..., Any]
    if isinstance(obj, type):
        seed_all(INIT_SEED)
        try:
            instance = obj(*init_args)
        except Exception as exc:
            raise raised(f"`{symbol}(...)`", exc, path) from None
        if isinstance(instance, torch.nn.Module):
            # In the mode its constructor leaves it, as KernelBench uses it: training unless __init__
            # calls self.eval(). BatchNorm then normalises with the batch's statistics, Dropout drops.
            instance = instance.to(device)
            modal = mode_dependent_layers(instance)
            if modal:
                mode = "training" if instance.training else "eval"
                notes.append(
                    f"`{symbol}` runs in {mode} mode, as constructed (KernelBench's semantics), which "
                    f"{', '.join(modal)} depend on; call self.eval() in __init__ for eval semantics"
                )
        if not callable(instance):
            raise LoadError(f"`{symbol}` instances are not callable: define __call__ or forward", path)
        target = instance
    elif callable(obj):
        target = obj
    else:
        raise LoadError(f"`{symbol}` is a {type(obj).__name__}, not a function or class", path)
    return Problem(
        symbol=symbol,
        spec=spec,
        kind=kind,
        path=path,
        module=module,
        device=device,
        draw=draw,
        target=target,
        draw_shapes=draw_shapes,
        shapes_from=shapes_name or "",
        inputs_from=inputs_name,
        uses_triton=uses_triton,
        notes=notes,
    )


_MODAL_LAYERS = (
    torch.nn.modules.batchnorm._BatchNorm,
    torch.nn.modules.dropout._DropoutNd,
    torch.nn.modules.instancenorm._InstanceNorm,
)


def mode_dependent_layers(module: torch.nn.Module) -> list[str]:
    """Kinds of layer in `module` that compute differently in training and eval mode (sorted names)."""
    return sorted({type(m).__name__ for m in module.modules() if isinstance(m, _MODAL_LAYERS)})


# ---- CUDA ----------------------------------------------------------------------------------------------

_TORCH_DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "int32": torch.int32,
    "int64": torch.int64,
    "int16": torch.int16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
}


def cuda_scalars(spec: CudaSpec) -> dict[str, int | float]:
    """Evaluate the scalar parameters' expressions, in directive order (later ones may use earlier ones)."""
    env: dict[str, int | float] = {}
    roles = {p.name: p for p in spec.params}
    for arg in spec.arguments:
        param = roles.get(arg.param)
        if param is not None and param.role is CudaParamRole.SCALAR:
            value = eval_int_expr(arg.expr, env)
            env[arg.param] = float(value) if (param.dtype or "").startswith("float") else int(value)
        elif param is None and arg.factory is None:
            # helper names in the directive (not parameters) can feed later expressions
            env[arg.param] = eval_int_expr(arg.expr, env)
    return env


def launch_shape(spec: CudaSpec, env: dict[str, int | float]) -> cuda_build.LaunchShape:
    def dims(exprs: tuple[str, ...], what: str) -> tuple[int, int, int]:
        values = [int(eval_int_expr(e, env)) for e in exprs][:3]
        if not values or any(v <= 0 for v in values):
            raise ExpressionError(
                f"{what}={','.join(exprs)} evaluates to {values}: every dimension must be > 0"
            )
        while len(values) < 3:
            values.append(1)
        return (values[0], values[1], values[2])

    smem = int(eval_int_expr(spec.smem, env)) if spec.smem else 0
    return cuda_build.LaunchShape(dims(spec.grid, "grid"), dims(spec.block, "block"), smem)


def _make_buffer(
    factory: str, args: Sequence[int | float], dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    if factory in ("randn", "rand", "zeros", "empty"):
        (n,) = (int(a) for a in args[-1:]) if args else (0,)
        if factory == "randn":
            return torch.randn(n, device=device).to(dtype)
        if factory == "rand":
            return torch.rand(n, device=device).to(dtype)
        if factory == "zeros":
            return torch.zeros(n, dtype=dtype, device=device)
        buf = torch.empty(n, dtype=dtype, device=device)
        # empty(): poison, so elements the kernel never writes are caught (docs/PITFALLS.md 9)
        if buf.is_floating_point():
            buf.fill_(float("nan"))
        else:
            buf.fill_(-(2**30) if dtype in (torch.int32, torch.int64) else 0)
        return buf
    if factory == "randint":
        lo, hi, n = (int(a) for a in args)
        return torch.randint(lo, hi, (n,), device=device, dtype=torch.int64).to(dtype)
    raise ExpressionError(f"unknown factory `{factory}`: use randn, rand, randint, zeros or empty")


def cuda_arguments(spec: CudaSpec, device: torch.device, seed: int) -> tuple[Any, ...]:
    env = cuda_scalars(spec)
    by_param = {a.param: a for a in spec.arguments}
    seed_all(seed)
    args: list[Any] = []
    for p in spec.params:
        arg = by_param.get(p.name)
        if arg is None:
            raise ExpressionError(f"the directive gives no value for parameter `{p.name}` of `{spec.kernel}`")
        if p.is_pointer:
            if arg.factory is None:
                raise ExpressionError(
                    f"pointer parameter `{p.name}` needs a factory such as randn(n) or empty(n)"
                )
            dtype = _TORCH_DTYPES.get(p.dtype or "float32")
            if dtype is None:
                raise ExpressionError(
                    f"parameter `{p.name}`: element type `{p.base_type}` is not supported yet"
                )
            values = [eval_int_expr(a, env) for a in arg.factory_args]
            args.append(_make_buffer(arg.factory, values, dtype, device))
        else:
            args.append(env[p.name])
    return tuple(args)


def build_cuda_problem(
    *, path: str, source: str, spec: CudaSpec, kind: SiteKind, device: torch.device, role: str
) -> Problem:
    """Compile the kernel (NVRTC) and prepare its launcher; without a GPU, check it compiles with nvcc and
    raise NoGpuError-like RefusedError."""
    if device.type != "cuda":
        checked_with = cuda_build.check_with_nvcc(source, path)
        how = (
            "it compiles with nvcc --ptx" if checked_with else "nvcc is not installed, so it was not compiled"
        )
        raise RefusedError(f"`{spec.kernel}` is a CUDA kernel and this run has no GPU ({how}); run on a GPU")
    kernel = cuda_build.nvrtc_kernel(source, spec.kernel, path)
    env = cuda_scalars(spec)
    shape = launch_shape(spec, env)
    dtypes = tuple(p.dtype for p in spec.params)
    outputs = tuple(i for i, p in enumerate(spec.params) if p.role is CudaParamRole.OUTPUT)
    if not outputs:
        raise LoadError(
            f"`{spec.kernel}` has no non-const pointer parameter, so it has no output to check", path
        )

    launcher = cuda_build.Launcher(kernel, shape, dtypes)

    def target(*args: Any) -> None:
        launcher(args)

    return Problem(
        symbol=spec.kernel,
        spec=spec,
        kind=kind,
        path=path,
        module=types.ModuleType(f"_kw_cuda_{role}"),
        device=device,
        draw=lambda seed: cuda_arguments(spec, device, seed),
        target=target,
        output_args=outputs,
    )
