"""The directive a site without a spec needs, written from its own signature, ready to paste.

A hover that says "add a directive" is only useful if the directive is right: for a CUDA kernel every
parameter must be named, pointers get factories (inputs random, non-const outputs empty) and integers a
size; for a Python function the input factory must return its arguments in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_GLOBAL = re.compile(r"__global__\s+(?:[\w:<>]+\s+)*?\w+\s*\(([^)]*)\)", re.S)
_DEF = re.compile(r"def\s+\w+\s*\(([^)]*)\)", re.S)
_IDENT = re.compile(r"[A-Za-z_]\w*")
_INTEGER_TYPES = frozenset({"int", "long", "size_t", "int64_t", "int32_t", "unsigned", "uint32_t", "short"})
DEFAULT_SIZE = "1<<20"


@dataclass(frozen=True)
class CudaParamHint:
    name: str
    pointer: bool
    const: bool
    integer: bool


def cuda_params(kernel_text: str) -> list[CudaParamHint] | None:
    """The parameters of the first __global__ signature in `kernel_text`; None if it has none."""
    found = _GLOBAL.search(kernel_text)
    if found is None:
        return None
    out: list[CudaParamHint] = []
    for raw in found.group(1).split(","):
        words = _IDENT.findall(raw)
        if not words or raw.strip() == "void":
            continue
        out.append(
            CudaParamHint(
                name=words[-1],
                pointer="*" in raw,
                const="const" in words[:-1],
                integer="*" not in raw and any(w in _INTEGER_TYPES for w in words[:-1]),
            )
        )
    return out


def cuda_directive(kernel_text: str) -> str | None:
    """`// kernelwright: bench n=1<<20 x=randn(n) y=empty(n) grid=(n+255)/256 block=256`."""
    params = cuda_params(kernel_text)
    if params is None:
        return None
    sizes = [p.name for p in params if p.integer]
    size = sizes[0] if sizes else DEFAULT_SIZE
    keys: list[str] = []
    # Sizes first: the pointer factories refer to them.
    for p in sorted(params, key=lambda p: not p.integer):
        if p.integer:
            keys.append(f"{p.name}={DEFAULT_SIZE if p.name == size else size}")
        elif p.pointer:
            keys.append(f"{p.name}={'randn' if p.const else 'empty'}({size})")
        else:
            keys.append(f"{p.name}=1.0")
    grid = f"({size}+255)/256" if sizes else "4096"
    return f"// kernelwright: bench {' '.join(keys)} grid={grid} block=256"


def python_params(function_text: str) -> list[str] | None:
    """Positional parameter names of the first `def` in `function_text` (self, *args, **kw left out)."""
    found = _DEF.search(function_text)
    if found is None:
        return None
    names: list[str] = []
    for raw in found.group(1).split(","):
        head = raw.split(":")[0].split("=")[0].strip()
        if not head or head.startswith("*") or head in ("self", "cls", "/"):
            continue
        names.append(head)
    return names


def function_directive(name: str, function_text: str) -> str:
    """The directive line plus a factory skeleton that returns the function's arguments in order."""
    factory = f"make_{name.lower()}_inputs"
    params = python_params(function_text) or []
    body = "    # build each argument at the size you want measured\n"
    body += "".join(f"    {p} = torch.randn(1024, 1024)\n" for p in params)
    returned = ", ".join(params) + ("," if len(params) == 1 else "")
    return f"def {factory}():\n{body}    return ({returned})\n\n\n# kernelwright: bench inputs={factory}"
