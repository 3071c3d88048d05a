"""Launch-configuration search for Triton launchers: BLOCK* constexpr sizes, num_warps, num_stages.

Two shapes of code are handled. A launch with literal keywords, `kernel[grid](..., BLOCK=16,
num_warps=4)` (or `BLOCK=BLOCK` with `BLOCK = 16` assigned in the launcher): the candidate rewrites those
values in a copy of the file. A kernel under `@triton.autotune(configs=[...])`: the candidate adds one
new `triton.Config` at the front of the list, so the autotuner still chooses per shape and the edit
keeps every config the person wrote. Only keywords that are the kernel's `tl.constexpr` parameters are
touched: changing a runtime argument would change what the kernel computes.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kernelwright.optimize.providers.builtin.pysource import (
    Offsets,
    Splice,
    apply_splices,
    dotted,
    int_constant,
    top_level_function,
)
from kernelwright.optimize.providers.builtin.space import Axis, Config, Space, powers_of_two

LAUNCH_OPTIONS = ("num_warps", "num_stages")
WARPS = (1, 2, 4, 8, 16)
STAGES = (1, 2, 3, 4, 5)
TRITON_DEFAULT_WARPS = 4


@dataclass(frozen=True)
class Slot:
    name: str
    start: int
    end: int
    value: int


@dataclass(frozen=True)
class TritonPlan:
    kernel: str
    space: Space
    slots: tuple[Slot, ...]  # literal launch keywords (empty in autotune mode)
    insert_at: int  # where a missing launch option goes (before the launch's closing parenthesis)
    autotune_list_at: int | None = None  # autotune mode: where a new Config is inserted
    autotune_indent: str = ""
    existing: frozenset[Config] = frozenset()  # autotune configs already in the list

    @property
    def autotuned(self) -> bool:
        return self.autotune_list_at is not None

    def render(self, file_text: str, config: Config) -> str:
        values = dict(config)
        if self.autotuned:
            assert self.autotune_list_at is not None
            meta = ", ".join(f'"{k}": {v}' for k, v in config if k not in LAUNCH_OPTIONS)
            opts = "".join(f", {k}={v}" for k, v in config if k in LAUNCH_OPTIONS)
            text = f"triton.Config({{{meta}}}{opts}),\n{self.autotune_indent}"
            return apply_splices(file_text, [Splice(self.autotune_list_at, self.autotune_list_at, text)])
        splices = [Splice(s.start, s.end, str(values[s.name])) for s in self.slots if s.name in values]
        present = {s.name for s in self.slots}
        extra = [
            f", {k}={v}"
            for k, v in config
            if k not in present and not (k == "num_warps" and v == TRITON_DEFAULT_WARPS)
        ]
        if extra:
            splices.append(Splice(self.insert_at, self.insert_at, "".join(extra)))
        return apply_splices(file_text, splices)

    def describe(self, config: Config) -> str:
        what = ", ".join(f"{k}={v}" for k, v in config)
        if self.autotuned:
            return f"adds triton.Config({what}) to the autotune list of {self.kernel}"
        return f"launches {self.kernel} with {what}"


def _constexpr_params(kernel: ast.FunctionDef) -> set[str]:
    names = set()
    for arg in kernel.args.args:
        if arg.annotation is not None and "constexpr" in ast.unparse(arg.annotation):
            names.add(arg.arg)
    return names


def _has_loop(kernel: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.For | ast.While) for n in ast.walk(kernel))


def _warps_for(values: Mapping[str, int]) -> dict[str, int]:
    """Rule of thumb for a first guess: about 256 elements of a tile per warp, 1 to 8 warps."""
    blocks = [v for k, v in values.items() if k not in LAUNCH_OPTIONS]
    if "num_warps" not in values or not blocks:
        return {}
    # Tiles: the output tile (the first two sizes, BLOCK_M x BLOCK_N) sets the work per program.
    size = math.prod(blocks[:2]) if len(blocks) > 1 else blocks[0]
    per = 512 if len(blocks) > 1 else 256
    warps = 2 ** round(math.log2(max(1, size / per)))
    return {"num_warps": min(8, max(1, warps))}


def _block_axes(names: list[str]) -> list[Axis]:
    if len(names) == 1:
        return [Axis(names[0], powers_of_two(16, 8192))]
    # Tiles (BLOCK_M, BLOCK_N, BLOCK_K): tl.dot wants at least 16, registers cap the product.
    return [Axis(n, powers_of_two(16, 256)) for n in names]


# fp32 accumulators a thread can hold in registers without spilling.
ACCUMULATORS_PER_THREAD = 128


def _valid(block_names: list[str]) -> Callable[[Mapping[str, int]], bool]:
    def ok(values: Mapping[str, int]) -> bool:
        if len(block_names) > 1:
            # The output tile (BLOCK_M x BLOCK_N) lives in the registers of the program's threads:
            # 128 x 128 for 4 warps, 128 x 256 for 8, beyond which it spills.
            threads = 32 * values.get("num_warps", TRITON_DEFAULT_WARPS)
            return math.prod(values[n] for n in block_names[:2]) <= ACCUMULATORS_PER_THREAD * threads
        return True

    return ok


# Tile configurations that do well for tl.dot kernels on recent GPUs (Triton's matmul tutorial lists
# these shapes): (BLOCK_M, BLOCK_N, BLOCK_K, num_stages, num_warps), best guesses first.
DOT_TILE_SEEDS: tuple[tuple[int, int, int, int, int], ...] = (
    (128, 256, 64, 3, 8),
    (256, 128, 64, 3, 8),
    (128, 128, 64, 4, 8),
    (128, 128, 32, 4, 4),
    (64, 256, 32, 4, 4),
    (128, 64, 32, 4, 4),
    (64, 128, 32, 4, 4),
    (128, 256, 64, 4, 8),
)


def _calls_dot(kernel: ast.FunctionDef) -> bool:
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "dot"
        for n in ast.walk(kernel)
    )


def _dot_seeds(block_names: list[str], axes: list[Axis], start: Mapping[str, int]) -> tuple[Config, ...]:
    """DOT_TILE_SEEDS as configurations of this launch: the first two block sizes are the output tile,
    the one named like K (else the third) the reduction step."""
    if len(block_names) != 3 or "num_stages" not in start:
        return ()
    k_name = next((n for n in block_names if n.upper().endswith("K")), block_names[2])
    m_name, n_name = [n for n in block_names if n != k_name]
    seeds: list[Config] = []
    for m, n, k, stages, warps in DOT_TILE_SEEDS:
        values = {**start, m_name: m, n_name: n, k_name: k, "num_stages": stages, "num_warps": warps}
        if all(values[a.name] in a.values for a in axes):
            seeds.append(tuple((a.name, values[a.name]) for a in axes))
    return tuple(seeds)


def plan_triton(file_text: str, launcher: str) -> TritonPlan | str:
    """The search plan for the launcher's first kernel launch, or why there is nothing to search."""
    try:
        tree = ast.parse(file_text)
    except SyntaxError as exc:
        return f"the file does not parse: {exc.msg} (line {exc.lineno})"
    func = top_level_function(tree, launcher)
    if func is None:
        return f"no top-level launcher function `{launcher}`"
    launch: ast.Call | None = None
    for sub in ast.walk(func):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Subscript):
            launch = sub
            break
    if launch is None:
        return f"`{launcher}` has no `kernel[grid](...)` launch"
    assert isinstance(launch.func, ast.Subscript)
    kernel_name = dotted(launch.func.value)
    kernel = top_level_function(tree, kernel_name)
    if kernel is None:
        return f"the launched kernel `{kernel_name}` is not defined in this file"
    off = Offsets(file_text)
    constexprs = _constexpr_params(kernel)
    for deco in kernel.decorator_list:
        if isinstance(deco, ast.Call) and dotted(deco.func).endswith("autotune"):
            return _autotune_plan(off, kernel, kernel_name, deco)

    # Local constants: `BLOCK = 16` in the launcher, passed as `BLOCK=BLOCK`.
    local_consts: dict[str, ast.Constant] = {}
    for stmt in func.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and isinstance(stmt.value, ast.Constant)
            and int_constant(stmt.value) is not None
        ):
            local_consts[stmt.targets[0].id] = stmt.value
    slots: list[Slot] = []
    for kw in launch.keywords:
        if kw.arg is None or not (
            kw.arg in LAUNCH_OPTIONS or (kw.arg in constexprs and "BLOCK" in kw.arg.upper())
        ):
            continue
        node: ast.AST = kw.value
        if isinstance(node, ast.Name) and node.id in local_consts:
            node = local_consts[node.id]
        value = int_constant(node)
        if value is not None:
            slots.append(Slot(kw.arg, off.start(node), off.end(node), value))
    block_names = [s.name for s in slots if s.name not in LAUNCH_OPTIONS]
    start = {s.name: s.value for s in slots}
    axes = _block_axes(block_names) if block_names else []
    start.setdefault("num_warps", TRITON_DEFAULT_WARPS)
    axes.append(Axis("num_warps", WARPS))
    if "num_stages" in start or _has_loop(kernel):
        start.setdefault("num_stages", 3)
        axes.append(Axis("num_stages", STAGES))
    last = (
        (launch.args + [k.value for k in launch.keywords])[-1] if (launch.args or launch.keywords) else None
    )
    insert_at = off.end(last) if last is not None else off.end(launch) - 1
    space = Space(
        axes=tuple(axes),
        start=tuple((a.name, start[a.name]) for a in axes),
        valid=_valid(block_names),
        companion=_warps_for if block_names else None,
        primary=tuple(block_names),
        seeds=_dot_seeds(block_names, axes, start) if _calls_dot(kernel) else (),
    )
    return TritonPlan(kernel_name, space, tuple(slots), insert_at)


def _autotune_plan(off: Offsets, kernel: ast.FunctionDef, name: str, deco: ast.Call) -> TritonPlan | str:
    configs = next(
        (k.value for k in deco.keywords if k.arg == "configs"), deco.args[0] if deco.args else None
    )
    if not isinstance(configs, ast.List) or not configs.elts:
        return f"the autotune configs of `{name}` are not a literal list"
    existing: list[dict[str, int]] = []
    for elt in configs.elts:
        if not (isinstance(elt, ast.Call) and dotted(elt.func).endswith("Config") and elt.args):
            return f"an autotune config of `{name}` is not a literal triton.Config"
        meta = elt.args[0]
        if not isinstance(meta, ast.Dict):
            return f"an autotune config of `{name}` has no literal dict"
        values: dict[str, int] = {}
        for k, v in zip(meta.keys, meta.values, strict=True):
            key = k.value if isinstance(k, ast.Constant) else None
            number = int_constant(v)
            if not isinstance(key, str) or number is None:
                return f"an autotune config of `{name}` has a key or value that is not a literal"
            values[key] = number
        for kw in elt.keywords:
            number = int_constant(kw.value)
            if kw.arg in LAUNCH_OPTIONS and number is not None:
                values[kw.arg] = number
        existing.append(values)
    keys = sorted({k for cfg in existing for k in cfg if k not in LAUNCH_OPTIONS})
    if any(set(keys) - set(cfg) for cfg in existing):
        return f"the autotune configs of `{name}` do not all set the same keys"
    first = existing[0]
    start = {k: first[k] for k in keys}
    axes = _block_axes([k for k in keys if "BLOCK" in k.upper()])
    fixed = [k for k in keys if "BLOCK" not in k.upper()]
    if fixed:
        return f"the autotune configs of `{name}` set {', '.join(fixed)}, which this search does not vary"
    start["num_warps"] = first.get("num_warps", TRITON_DEFAULT_WARPS)
    axes.append(Axis("num_warps", WARPS))
    if any("num_stages" in cfg for cfg in existing) or _has_loop(kernel):
        start["num_stages"] = first.get("num_stages", 3)
        axes.append(Axis("num_stages", STAGES))
    names = [a.name for a in axes]
    known = frozenset(
        tuple((n, cfg.get(n, TRITON_DEFAULT_WARPS if n == "num_warps" else 3)) for n in names)
        for cfg in existing
    )
    first_elt = configs.elts[0]
    line = off.lines[first_elt.lineno - 1]
    indent = line[: len(line) - len(line.lstrip())] if line.strip().startswith("triton") else ""
    block_names = [a.name for a in axes if a.name not in LAUNCH_OPTIONS]
    space = Space(
        axes=tuple(axes),
        start=tuple((n, start[n]) for n in names),
        valid=_valid(block_names),
        companion=_warps_for,
        primary=tuple(block_names),
    )
    return TritonPlan(
        name,
        space,
        (),
        off.end(deco),
        autotune_list_at=off.start(first_elt),
        autotune_indent=indent,
        existing=known,
    )
