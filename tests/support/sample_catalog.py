"""The sample files and their bench directives, read with plain regular expressions.

Deliberately independent of `kernelwright.analysis`: the sample tests check the samples themselves, and
must not pass or fail with the analysis code they will later be used to test. Other suites may use
`sample_files` to enumerate samples by language.
"""

from __future__ import annotations

import enum
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from kernelwright.core.expr import eval_int_expr, names_in

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"


class SampleFolder(enum.StrEnum):
    PYTORCH = "pytorch"
    TRITON = "triton"
    CUDA = "cuda"


def sample_files(folder: SampleFolder, suffix: str = ".py") -> list[Path]:
    """The sample files of one folder, sorted, helpers (names starting with `_`) excluded."""
    return sorted(p for p in (SAMPLES / folder).glob(f"*{suffix}") if not p.name.startswith("_"))


@dataclass(frozen=True)
class PythonDirective:
    """`# kernelwright: bench k=v ...` and the function or class defined on the next line."""

    symbol: str
    line: int  # 0-based line of the directive comment
    keys: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str | None:
        return dict(self.keys).get(key)


@dataclass(frozen=True)
class CudaDirective:
    """`// kernelwright: bench k=v ...` and the `__global__` kernel that follows it."""

    kernel: str
    line: int
    params: tuple[str, ...]  # parameter names in declaration order
    keys: tuple[tuple[str, str], ...]
    param_types: tuple[str, ...] = ()  # each parameter's declaration without its name, e.g. "const float*"

    def get(self, key: str) -> str | None:
        return dict(self.keys).get(key)


FACTORY = re.compile(r"^(?P<name>randn|rand|randint|zeros|empty)\((?P<args>.*)\)$")

_PY_DIRECTIVE = re.compile(r"^# kernelwright: bench (?P<body>.*)\n(?:def|class) (?P<name>\w+)", re.M)
_CUDA_DIRECTIVE = re.compile(
    r"^// kernelwright: bench (?P<body>.*)\n"
    r"extern \"C\" __global__ void (?P<name>\w+)\s*\((?P<params>[^)]*)\)",
    re.M,
)


def _pairs(body: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for token in body.split():
        key, sep, value = token.partition("=")
        if not sep or not key or not value:
            raise ValueError(f"directive token `{token}` is not key=value")
        pairs.append((key, value))
    return tuple(pairs)


def python_directives(text: str) -> list[PythonDirective]:
    return [
        PythonDirective(m["name"], text.count("\n", 0, m.start()), _pairs(m["body"]))
        for m in _PY_DIRECTIVE.finditer(text)
    ]


def cuda_directives(text: str) -> list[CudaDirective]:
    out = []
    for m in _CUDA_DIRECTIVE.finditer(text):
        decls = [p.strip() for p in m["params"].split(",") if p.strip()]
        names = tuple(re.findall(r"(\w+)$", d)[0] for d in decls)
        types = tuple(
            " ".join(d[: -len(n)].replace("__restrict__", "").split())
            for d, n in zip(decls, names, strict=True)
        )
        line = text.count("\n", 0, m.start())
        out.append(CudaDirective(m["name"], line, names, _pairs(m["body"]), types))
    return out


def load_module(path: Path) -> ModuleType:
    """Import a sample file by path under a unique module name (samples are not a package)."""
    name = f"kw_sample_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, f"cannot import {path}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def scalar_values(d: CudaDirective) -> dict[str, int | float]:
    """The directive's scalar parameters, evaluated in dependency order (a size may use another)."""
    pending = {k: v for k, v in d.keys if k in d.params and not FACTORY.match(v)}
    env: dict[str, int | float] = {}
    while pending:
        ready = [k for k, v in pending.items() if names_in(v) <= env.keys()]
        if not ready:
            raise ValueError(f"{d.kernel}: circular or unknown names in {pending}")
        for k in ready:
            env[k] = eval_int_expr(pending.pop(k), env)
    return env


def launch_dims(text: str, env: dict[str, int | float]) -> tuple[int, int, int]:
    """`(a,b)` or `a` -> a 3-D launch shape, evaluated over the scalar parameters."""
    parts = [p for p in text[1:-1].split(",") if p] if text.startswith("(") and "," in text else [text]
    dims = [int(eval_int_expr(p, env)) for p in parts]
    x, y, z = [*dims, 1, 1][:3]
    return x, y, z
