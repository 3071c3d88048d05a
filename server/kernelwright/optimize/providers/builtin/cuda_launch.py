"""Launch-shape search for CUDA kernels: the directive's block size, with the grid kept covering the
problem when the grid is written in terms of the block (`(n+255)/256` with block=256, or `cdiv(n,256)`).

The candidate is the .cu file with the directive's `grid=` and `block=` rewritten. A grid that does
not follow the block (a reduction whose block count is fixed by its output size, say), or a dynamic
shared-memory size that depends on it, is left alone: the search says so rather than guess.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from kernelwright.core.site import CudaSpec
from kernelwright.optimize.providers.builtin.space import Axis, Config, Space

BLOCK_1D = (32, 64, 128, 256, 512, 1024)
BLOCK_X = (8, 16, 32, 64, 128, 256)
BLOCK_Y = (1, 2, 4, 8, 16, 32)
MAX_THREADS = 1024


@dataclass(frozen=True)
class GridDim:
    extent: str  # the expression the grid covers, e.g. "n"
    style: str  # "div" for (E+B-1)/B, "cdiv" for cdiv(E,B)

    def render(self, block: int) -> str:
        if self.style == "cdiv":
            return f"cdiv({self.extent},{block})"
        return f"({self.extent}+{block - 1})/{block}"


def _grid_dim(expr: str, block: int) -> GridDim | None:
    try:
        node = ast.parse(expr.strip(), mode="eval").body
    except SyntaxError:
        return None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "cdiv"
        and len(node.args) == 2
    ):
        b = node.args[1]
        if isinstance(b, ast.Constant) and b.value == block:
            return GridDim(ast.unparse(node.args[0]).replace(" ", ""), "cdiv")
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div | ast.FloorDiv):
        right, left = node.right, node.left
        if not (isinstance(right, ast.Constant) and right.value == block):
            return None
        if (
            isinstance(left, ast.BinOp)
            and isinstance(left.op, ast.Add)
            and isinstance(left.right, ast.Constant)
            and left.right.value == block - 1
        ):
            return GridDim(ast.unparse(left.left).replace(" ", ""), "div")
    return None


@dataclass(frozen=True)
class CudaPlan:
    kernel: str
    space: Space
    dims: tuple[GridDim, ...]
    directive_line: int  # 0-based line of the directive in the file

    def render(self, file_text: str, config: Config) -> str:
        values = dict(config)
        blocks = [values[f"block_{'xyz'[i]}"] for i in range(len(self.dims))]
        grid = ",".join(d.render(b) for d, b in zip(self.dims, blocks, strict=True))
        block = ",".join(str(b) for b in blocks)
        if len(self.dims) > 1:
            grid, block = f"({grid})", f"({block})"
        lines = file_text.splitlines(keepends=True)
        line = lines[self.directive_line]
        line = re.sub(r"\bgrid=\S+", lambda _: f"grid={grid}", line, count=1)
        line = re.sub(r"\bblock=\S+", lambda _: f"block={block}", line, count=1)
        lines[self.directive_line] = line
        return "".join(lines)

    def describe(self, config: Config) -> str:
        return f"launches {self.kernel} with block=" + "x".join(str(v) for _, v in config)


def plan_cuda(file_text: str, spec: CudaSpec, kernel_line: int) -> CudaPlan | str:
    lines = file_text.splitlines()
    directive = kernel_line - 1
    while directive >= 0 and "kernelwright:" not in lines[directive]:
        if lines[directive].strip() and not lines[directive].lstrip().startswith("//"):
            return "the kernel's directive comment is not right above it"
        directive -= 1
    if directive < 0:
        return "the kernel has no directive comment"
    if len(spec.grid) != len(spec.block):
        return "grid and block have different numbers of dimensions"
    blocks: list[int] = []
    dims: list[GridDim] = []
    for g, b in zip(spec.grid, spec.block, strict=True):
        if not b.strip().isdigit():
            return f"block `{b}` is not a number"
        block = int(b)
        dim = _grid_dim(g, block)
        if dim is None:
            return f"grid `{g}` does not cover its extent by block={block}, so the block cannot change alone"
        blocks.append(block)
        dims.append(dim)
    if spec.smem and any(str(b) in spec.smem for b in blocks):
        return f"smem=`{spec.smem}` depends on the block size"
    if len(dims) == 1:
        axes: tuple[Axis, ...] = (Axis("block_x", BLOCK_1D),)
    elif len(dims) == 2:
        axes = (Axis("block_x", BLOCK_X), Axis("block_y", BLOCK_Y))
    else:
        return "3-D launches are not searched"

    def ok(values: Mapping[str, int]) -> bool:
        return 32 <= math.prod(values.values()) <= MAX_THREADS

    start = tuple((a.name, v) for a, v in zip(axes, blocks, strict=True))
    return CudaPlan(spec.kernel, Space(axes, start, ok), tuple(dims), directive)
