"""What analysis finds in a file: sites (kernels and benchable code), their bench specs, and findings.

Positions are 0-based lines and UTF-16 code-unit columns, as LSP wants them. Everything here is a frozen
value that serialises to JSON through `to_json`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

from kernelwright.core.jsonable import JsonValue, to_json


class Language(enum.StrEnum):
    PYTHON = "python"
    CUDA = "cuda"


class SiteKind(enum.StrEnum):
    """What a site is. The names are stable: they appear in `scan --json` and in the store."""

    TORCH_MODULE = "torch_module"  # a class deriving from nn.Module
    TORCH_FUNCTION = "torch_function"  # a plain Python function with a bench directive
    BENCH_CLASS = "bench_class"  # a non-Module class with a bench directive (init= gives its args)
    TRITON_KERNEL = "triton_kernel"  # a @triton.jit function
    TRITON_LAUNCHER = "triton_launcher"  # a Python function that launches a Triton kernel: kernel[grid](...)
    CUDA_KERNEL = "cuda_kernel"  # a __global__ function in a .cu/.cuh file
    INLINE_CUDA_KERNEL = "inline_cuda_kernel"  # a __global__ function inside a load_inline source string


class Convention(enum.StrEnum):
    MODULE = "module"  # KernelBench: Model + get_inputs (+ get_init_inputs), answered by ModelNew
    FUNCTION = "function"  # `# kernelwright: bench inputs=...` above a function or class
    CUDA = "cuda"  # `// kernelwright: bench ...` above a __global__ kernel


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"
    HINT = "hint"


@dataclass(frozen=True, order=True)
class Position:
    line: int  # 0-based
    character: int  # 0-based, UTF-16 code units


@dataclass(frozen=True)
class Range:
    start: Position
    end: Position

    @staticmethod
    def of(sl: int, sc: int, el: int, ec: int) -> Range:
        return Range(Position(sl, sc), Position(el, ec))

    def contains(self, pos: Position) -> bool:
        return self.start <= pos <= self.end

    def overlaps_lines(self, first: int, last: int) -> bool:
        return not (self.end.line < first or self.start.line > last)


@dataclass(frozen=True)
class ModuleSpec:
    """KernelBench's module convention: the file is the problem."""

    model: str = "Model"
    inputs: str = "get_inputs"
    init: str | None = "get_init_inputs"
    candidate: str = "ModelNew"
    # Smaller inputs and constructor arguments for a run on the CPU (`get_cpu_inputs`,
    # `get_cpu_init_inputs`), where KernelBench's GPU sizes can need tens of GB or hours.
    cpu_inputs: str | None = None
    cpu_init: str | None = None
    # Inputs at other shapes than `get_inputs`' for the module as constructed (`get_other_shape_inputs`,
    # and `get_cpu_other_shape_inputs` for a CPU run with the CPU factories): like the function
    # convention's `shapes=`, checked on every candidate, never timed.
    shapes: str | None = None
    cpu_shapes: str | None = None
    convention: Literal[Convention.MODULE] = Convention.MODULE


@dataclass(frozen=True)
class FunctionSpec:
    """`# kernelwright: bench inputs=NAME [init=] [atol=F] [rtol=F] [reference=NAME] [cpu_inputs=NAME]
    [shapes=NAME]`."""

    inputs: str
    init: str | None = None
    atol: float | None = None
    rtol: float | None = None
    reference: str | None = None
    cpu_inputs: str | None = None
    # A factory of inputs at other shapes than `inputs`' (it may draw its shapes from the seeded generator,
    # so each trial sees others): every candidate must also be right on them; checked, never timed.
    shapes: str | None = None
    convention: Literal[Convention.FUNCTION] = Convention.FUNCTION


class CudaParamRole(enum.StrEnum):
    INPUT = "input"  # const pointer: read by the kernel
    OUTPUT = "output"  # non-const pointer: compared by verification
    SCALAR = "scalar"  # integer or floating-point value parameter


@dataclass(frozen=True)
class CudaParam:
    name: str
    c_type: str  # as written, e.g. "const float* __restrict__"
    base_type: str  # "float", "half", "int", ...
    is_pointer: bool
    is_const: bool
    role: CudaParamRole
    dtype: str | None  # torch dtype name for pointers and scalars ("float32", "int32", ...)


@dataclass(frozen=True)
class CudaArgument:
    """One parameter's value from the directive, parsed: a factory call for pointers, an expression else."""

    param: str
    expr: str  # as written
    factory: str | None = None  # randn | rand | randint | zeros | empty, for pointer parameters
    factory_args: tuple[str, ...] = ()  # the factory's argument expressions, as written


@dataclass(frozen=True)
class CudaSpec:
    """`// kernelwright: bench p1=... p2=... grid=... block=... [smem=...] [atol=] [rtol=]`."""

    kernel: str
    params: tuple[CudaParam, ...]
    arguments: tuple[CudaArgument, ...]
    grid: tuple[str, ...]  # 1 to 3 integer expressions over the scalar parameters
    block: tuple[str, ...]
    smem: str | None = None
    atol: float | None = None
    rtol: float | None = None
    convention: Literal[Convention.CUDA] = Convention.CUDA


BenchSpec = ModuleSpec | FunctionSpec | CudaSpec


@dataclass(frozen=True)
class Site:
    """A kernel or benchable piece of code, with where it is and how to run it (its spec, if any)."""

    kind: SiteKind
    name: str
    language: Language
    range: Range  # the whole definition, decorators included (the directive comment above is not)
    name_range: Range  # the identifier
    spec: BenchSpec | None = None
    # Triton kernels: the launchers that call them; launchers: the kernels they launch.
    links: tuple[str, ...] = ()
    # Inline CUDA: the Python variable or call that carries the source (for messages and edits).
    container: str | None = None
    # The enclosing class for methods (e.g. forward), else None.
    parent: str | None = None

    @property
    def symbol(self) -> str:
        return self.name

    def to_json(self) -> JsonValue:
        return to_json(self)


@dataclass(frozen=True)
class Finding:
    """A static finding: a catalogue rule that fired, or a malformed directive."""

    rule: str  # stable id, e.g. "KW101"
    name: str  # stable slug, e.g. "host-sync-in-forward"
    message: str  # what is wrong here, and the fix
    severity: Severity
    range: Range
    rationale: str  # why the rule exists, one line
    site: str | None = None  # the site it belongs to, if any
    fix: str | None = None  # replacement text for `range` when a mechanical quick fix exists

    def to_json(self) -> JsonValue:
        return to_json(self)


@dataclass(frozen=True)
class AnalysisResult:
    path: str
    language: Language
    sites: tuple[Site, ...] = ()
    findings: tuple[Finding, ...] = ()
    # Files this one imports (relative module paths resolved by the caller), for re-profiling on change.
    imports: tuple[str, ...] = field(default=())

    def site(self, name: str) -> Site | None:
        for s in self.sites:
            if s.name == name:
                return s
        return None

    def to_json(self) -> JsonValue:
        return to_json(self)
