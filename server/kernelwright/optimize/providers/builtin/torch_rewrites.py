"""Rewrites a kernel engineer tries first on torch code, as edits of the person's own file.

Each family looks for its pattern in the site's function (a module's `forward`, or the function),
written the ways people write it, and proposes the file with the pattern replaced:

- `sdpa`: attention written out (scores = q @ k^T times a scale, an optional causal or other mask,
  softmax over the last dim, @ v) -> `scaled_dot_product_attention` with that mask and scale, which
  never materialises the scores (flash / memory-efficient kernels);
- `linear`: a matmul followed by a bias add -> `F.linear` (the bias in the GEMM's epilogue);
- `addmm-act`: ReLU (or tanh-GELU on a GPU) of a linear with bias -> one `torch._addmm_activation`
  call, which cuBLASLt runs with bias and activation in its epilogue;
- `triton`: RMSNorm, LayerNorm, softmax, SiLU*mul and GELU*mul -> single-pass Triton kernels
  (fused_kernels.py), with their launch configuration searched;
- `liger`: the same patterns -> liger-kernel's kernels, where liger-kernel is installed;
- `torch-ops`: a chain written out that torch has one op for (softmax from exp / sum, log of softmax,
  cross-entropy from log_softmax + gather, tanh-GELU from its formula);
- `all`: every family that applies, one after the other.

A rewrite is a proposal: the loop verifies it like any candidate, so a match that is wrong for the
person's shapes or dtypes (a mask that is not what it looks like, a rank addmm cannot take) is simply
rejected. The statements that fed only the replaced chain are removed (flow.remove_dead_assignments),
or the candidate would still compute them.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from kernelwright.core.site import SiteKind
from kernelwright.optimize.providers.builtin import fused_kernels, ssa
from kernelwright.optimize.providers.builtin.flow import (
    At,
    Flow,
    call_name,
    find_function,
    int_value,
    is_minus_inf,
    keyword,
    remove_dead_assignments,
    same,
)
from kernelwright.optimize.providers.builtin.fused_kernels import FusedOp
from kernelwright.optimize.providers.builtin.pysource import (
    Offsets,
    Splice,
    add_module_code,
    apply_splices,
    dotted,
)

F = "torch.nn.functional"
SOFTMAX_CALLS = {"torch.softmax", "F.softmax", "torch.nn.functional.softmax", "nn.functional.softmax"}
RELU_CALLS = {"torch.relu", "F.relu", "torch.nn.functional.relu"}
GELU_CALLS = {"F.gelu", "torch.nn.functional.gelu"}
SILU_CALLS = {"F.silu", "torch.nn.functional.silu"}
LAYER_NORM_CALLS = {"F.layer_norm", "torch.nn.functional.layer_norm", "torch.layer_norm"}
MATMUL_CALLS = {"torch.matmul", "torch.mm", "torch.bmm"}
LIGER = {
    FusedOp.RMS_NORM: ("liger_kernel.ops.rms_norm", "LigerRMSNormFunction"),
    FusedOp.LAYER_NORM: ("liger_kernel.ops.layer_norm", "LigerLayerNormFunction"),
    FusedOp.SOFTMAX: ("liger_kernel.ops.softmax", "LigerSoftmaxFunction"),
    FusedOp.SILU_MUL: ("liger_kernel.ops.swiglu", "LigerSiLUMulFunction"),
    FusedOp.GELU_MUL: ("liger_kernel.ops.geglu", "LigerGELUMulFunction"),
}

ADDMM_ACT = '''def _kw_addmm_act(x, weight, bias, use_gelu=False):
    """x @ weight.T + bias, then ReLU (tanh-GELU with use_gelu), as one GEMM with a fused epilogue."""
    out = torch._addmm_activation(bias, x.reshape(-1, x.shape[-1]), weight.t(), use_gelu=use_gelu)
    return out.view(*x.shape[:-1], weight.shape[0])'''


@dataclass(frozen=True)
class Rewrite:
    slug: str  # for candidate ids: "sdpa", "triton-w4-r1", "all-w4-r1"
    why: str  # the candidate's rationale
    file_text: str


@dataclass(frozen=True)
class Target:
    """Where the site's code is: a method of a class (`forward`) or a top-level function."""

    func: str
    cls: str | None

    @staticmethod
    def all_of(file_text: str, site_name: str, kind: SiteKind) -> list[Target]:
        """The site's function, or every method of its class but __init__ (forward first)."""
        tree = ast.parse(file_text)
        if kind not in (SiteKind.TORCH_MODULE, SiteKind.BENCH_CLASS):
            return [Target(site_name, None)] if find_function(tree, site_name, None) is not None else []
        cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == site_name), None)
        if cls is None:
            return []
        names = [n.name for n in cls.body if isinstance(n, ast.FunctionDef) and n.name != "__init__"]
        names.sort(key=lambda n: n not in ("forward", "__call__"))
        return [Target(n, site_name) for n in names]


@dataclass(frozen=True)
class _Hit:
    node: ast.expr
    text: str
    helpers: tuple[str, ...] = ()  # module-level source the replacement calls
    imports: tuple[str, ...] = ()  # import lines it needs
    what: str = ""  # for the rationale: "RMSNorm", "causal attention"


class _Scope:
    """The rewritten function's dataflow and what its class's __init__ builds (`self.x = nn.Linear`)."""

    def __init__(self, file_text: str, target: Target) -> None:
        self.text = file_text
        tree = ast.parse(file_text)
        func = find_function(tree, target.func, target.cls)
        assert func is not None
        self.flow = Flow(func)
        self.layers: dict[str, ast.Call] = {}
        init = find_function(tree, "__init__", target.cls) if target.cls else None
        for node in ast.walk(init) if init is not None else ():
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Attribute)
                and dotted(node.targets[0].value) == "self"
                and isinstance(node.value, ast.Call)
            ):
                self.layers[node.targets[0].attr] = node.value

    def src(self, node: ast.AST) -> str:
        offsets = Offsets(self.text)
        return self.text[offsets.start(node) : offsets.end(node)]

    def take(self, at: At, until: int) -> str | None:
        """`at`'s source, if it can be written in statement `until` and mean the same."""
        return self.src(at.node) if self.flow.stable(at, until) else None

    def layer(self, call: ast.expr) -> tuple[str, ast.Call] | None:
        """(`self.name`, the nn constructor call) for a call of a layer built in __init__."""
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and dotted(call.func.value) == "self"
            and call.func.attr in self.layers
        ):
            return f"self.{call.func.attr}", self.layers[call.func.attr]
        return None


# ---- attention -> scaled_dot_product_attention -------------------------------------------------------


def _last_dim(call: ast.Call, position: int) -> bool:
    return int_value(keyword(call, "dim", position)) == -1 and keyword(call, "dtype") is None


def _softmax_arg(node: ast.expr) -> ast.expr | None:
    if not isinstance(node, ast.Call):
        return None
    if call_name(node) in SOFTMAX_CALLS and node.args and _last_dim(node, 1):
        return node.args[0]
    if isinstance(node.func, ast.Attribute) and node.func.attr == "softmax" and _last_dim(node, 0):
        return node.func.value
    return None


def _matmul_operands(node: ast.expr) -> tuple[ast.expr, ast.expr] | None:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return node.left, node.right
    if isinstance(node, ast.Call) and len(node.args) == 2 and call_name(node) in MATMUL_CALLS:
        return node.args[0], node.args[1]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "matmul"
        and len(node.args) == 1
    ):
        return node.func.value, node.args[0]
    return None


def _transposed(node: ast.expr) -> ast.expr | None:
    """K for `K.transpose(-2, -1)`, `K.transpose(-1, -2)`, `K.mT`, `K.transpose(2, 3)`."""
    if isinstance(node, ast.Attribute) and node.attr == "mT":
        return node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "transpose":
        dims = {int_value(a) for a in node.args}
        if len(node.args) == 2 and dims in ({-2, -1}, {2, 3}):
            return node.func.value
    return None


def _causal_mask(scope: _Scope, at: At) -> bool:
    """Whether a masked_fill mask is the upper triangle above the diagonal (True = masked out)."""
    node = scope.flow.resolve(at).node
    if isinstance(node, ast.Call) and call_name(node) == "torch.triu":
        return int_value(keyword(node, "diagonal", 1)) == 1 and _ones(
            scope, node.args[0] if node.args else None
        )
    # tril(ones) == 0, or a registered tril buffer sliced to the sequence: `self.mask[:T, :T] == 0`
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)):
        return False
    if int_value(node.comparators[0]) != 0:
        return False
    left = node.left
    while isinstance(left, ast.Subscript):
        left = left.value
    if isinstance(left, ast.Call) and call_name(left) == "torch.tril":
        return _ones(scope, left.args[0] if left.args else None)
    return isinstance(left, ast.Attribute) and dotted(left.value) == "self"


def _ones(scope: _Scope, node: ast.expr | None) -> bool:
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("bool", "to")
    ):
        node = node.func.value
    return isinstance(node, ast.Call) and call_name(node) == "torch.ones"


def _attention(scope: _Scope, at: At, on_gpu: bool) -> _Hit | None:
    pair = _matmul_operands(at.node)
    if pair is None:
        return None
    until = at.stmt
    weights = scope.flow.resolve(At(pair[0], at.stmt))
    logits_node = _softmax_arg(weights.node)
    if logits_node is None:
        return None
    logits = scope.flow.resolve(At(logits_node, weights.stmt))
    mask_arg, causal = "", False
    node = logits.node
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "masked_fill"
    ):
        if len(node.args) != 2 or not is_minus_inf(node.args[1]):
            return None
        mask = At(node.args[0], logits.stmt)
        causal = _causal_mask(scope, mask)
        if not causal:
            text = scope.take(mask, until)
            if text is None:
                return None
            mask_arg = f", attn_mask=torch.logical_not({text})"
        logits = scope.flow.resolve(At(node.func.value, logits.stmt))
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        for scores_side, mask_side in ((node.left, node.right), (node.right, node.left)):
            inner = scope.flow.resolve(At(scores_side, logits.stmt))
            if _scaled_scores(scope, inner) is not None:
                text = scope.take(At(mask_side, logits.stmt), until)
                if text is None:
                    return None
                mask_arg = f", attn_mask={text}"
                logits = inner
                break
        else:
            return None
    found = _scaled_scores(scope, logits)
    if found is None:
        return None
    q_at, k_at, scale, divide = found
    q, k, v = scope.take(q_at, until), scope.take(k_at, until), scope.take(At(pair[1], at.stmt), until)
    scale_text = "1.0" if scale is None else scope.take(scale, until)
    if q is None or k is None or v is None or scale_text is None:
        return None
    if divide:
        scale_text = f"1.0 / ({scale_text})"
    causal_arg = ", is_causal=True" if causal else ""
    text = f"{F}.scaled_dot_product_attention({q}, {k}, {v}{mask_arg}{causal_arg}, scale={scale_text})"
    what = "causal attention" if causal else "masked attention" if mask_arg else "attention"
    return _Hit(at.node, text, what=what)


def _scaled_scores(scope: _Scope, at: At) -> tuple[At, At, At | None, bool] | None:
    """(q, k, scale, whether it divides) for `(q @ k^T) * s`, `s * (q @ k^T)`, `(q @ k^T) / s`, or
    `q @ k^T` (no scale)."""
    node = at.node
    scale: At | None = None
    divide = False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Div):
        sides = [(node.left, node.right)]
        if isinstance(node.op, ast.Mult):
            sides.append((node.right, node.left))
        for scores_side, scale_side in sides:
            inner = scope.flow.resolve(At(scores_side, at.stmt))
            pair = _matmul_operands(inner.node)
            if pair is not None and _transposed(pair[1]) is not None:
                scale, divide = At(scale_side, at.stmt), isinstance(node.op, ast.Div)
                at, node = inner, inner.node
                break
        else:
            return None
    pair = _matmul_operands(node)
    if pair is None:
        return None
    k = _transposed(pair[1])
    if k is None:
        return None
    return At(pair[0], at.stmt), At(k, at.stmt), scale, divide


# ---- matmul epilogues -> F.linear, torch._addmm_activation --------------------------------------------


@dataclass(frozen=True)
class _Linear:
    x: str
    weight: str  # as F.linear takes it: (out, in)
    bias: str | None


def _linear(scope: _Scope, at: At, until: int) -> _Linear | None:
    """A matmul of an input by a weight, with or without a bias, in any of its spellings."""
    at = scope.flow.resolve(at)
    node = at.node

    def take(n: ast.expr) -> str | None:
        return scope.take(At(n, at.stmt), until)

    layer = scope.layer(node)
    if layer is not None and isinstance(node, ast.Call) and len(node.args) == 1:
        name, ctor = layer
        if dotted(ctor.func).rsplit(".", 1)[-1] != "Linear":
            return None
        bias_flag = keyword(ctor, "bias", 2)
        has_bias = not (isinstance(bias_flag, ast.Constant) and bias_flag.value is False)
        x = take(node.args[0])
        return None if x is None else _Linear(x, f"{name}.weight", f"{name}.bias" if has_bias else None)
    if isinstance(node, ast.Call) and call_name(node) in ("F.linear", f"{F}.linear") and len(node.args) >= 2:
        parts = [take(a) for a in node.args[:3]]
        if None in parts:
            return None
        return _Linear(parts[0] or "", parts[1] or "", parts[2] if len(parts) == 3 else None)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        for mm_side, bias_side in ((node.left, node.right), (node.right, node.left)):
            inner = _linear(scope, At(mm_side, at.stmt), until)
            if inner is not None and inner.bias is None and isinstance(bias_side, ast.Name | ast.Attribute):
                bias = take(bias_side)
                return None if bias is None else _Linear(inner.x, inner.weight, bias)
        return None
    pair = _matmul_operands(node)
    if pair is None or (isinstance(node, ast.Call) and call_name(node) == "torch.bmm"):
        return None
    x = take(pair[0])
    right = pair[1]
    if isinstance(right, ast.Attribute) and right.attr == "T":
        weight = take(right.value)
    elif isinstance(right, ast.Call) and isinstance(right.func, ast.Attribute) and right.func.attr == "t":
        weight = take(right.func.value)
    elif isinstance(right, ast.Name | ast.Attribute):
        inner_w = take(right)
        weight = None if inner_w is None else f"{inner_w}.t()"
    else:
        return None
    return None if x is None or weight is None else _Linear(x, weight, None)


def _activation(scope: _Scope, node: ast.expr, on_gpu: bool) -> tuple[ast.expr, bool] | None:
    """(its input, whether it is GELU) for ReLU or tanh-GELU applied to one tensor."""
    if not isinstance(node, ast.Call):
        return None
    name = call_name(node)
    layer = scope.layer(node)
    if layer is not None and len(node.args) == 1:
        kind = dotted(layer[1].func).rsplit(".", 1)[-1]
        approximate = keyword(layer[1], "approximate")
        if kind == "ReLU":
            return node.args[0], False
        if (
            kind == "GELU"
            and on_gpu
            and isinstance(approximate, ast.Constant)
            and approximate.value == "tanh"
        ):
            return node.args[0], True
        return None
    if name in RELU_CALLS and len(node.args) == 1:
        return node.args[0], False
    if (
        isinstance(node.func, ast.Attribute)
        and node.func.attr == "relu"
        and not node.args
        and not name.startswith("torch")
    ):
        return node.func.value, False
    if name in GELU_CALLS and len(node.args) == 1 and on_gpu:
        approximate = keyword(node, "approximate")
        if isinstance(approximate, ast.Constant) and approximate.value == "tanh":
            return node.args[0], True
    return None


def _linear_bias(scope: _Scope, at: At, on_gpu: bool) -> _Hit | None:
    node = at.node
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)):
        return None
    found = _linear(scope, at, at.stmt)
    if found is None or found.bias is None:
        return None
    return _Hit(node, f"{F}.linear({found.x}, {found.weight}, {found.bias})", what="matmul + bias")


def _addmm_act(scope: _Scope, at: At, on_gpu: bool) -> _Hit | None:
    act = _activation(scope, at.node, on_gpu)
    if act is None:
        return None
    found = _linear(scope, At(act[0], at.stmt), at.stmt)
    if found is None or found.bias is None:
        return None
    gelu = ", use_gelu=True" if act[1] else ""
    text = f"_kw_addmm_act({found.x}, {found.weight}, {found.bias}{gelu})"
    return _Hit(at.node, text, helpers=(ADDMM_ACT,), what="matmul + bias + " + ("GELU" if act[1] else "ReLU"))


# ---- norms, softmax, gated activations -> fused kernels ----------------------------------------------


@dataclass(frozen=True)
class _Fusable:
    op: FusedOp
    args: tuple[str, ...]  # as the op's wrapper takes them
    what: str


def _mean_of_squares(scope: _Scope, at: At) -> ast.expr | None:
    """x for `x.pow(2).mean(-1, keepdim=True)`, `(x * x).mean(dim=-1, keepdim=True)`,
    `x.square().mean(...)`, `torch.mean(x ** 2, dim=-1, keepdim=True)`."""
    node = scope.flow.resolve(at).node
    if not isinstance(node, ast.Call):
        return None
    keep = keyword(node, "keepdim")
    if not (isinstance(keep, ast.Constant) and keep.value is True):
        return None
    if call_name(node) == "torch.mean" and node.args:
        inner, dim = node.args[0], keyword(node, "dim", 1)
    elif isinstance(node.func, ast.Attribute) and node.func.attr == "mean":
        inner, dim = node.func.value, keyword(node, "dim", 0)
    else:
        return None
    if int_value(dim) != -1:
        return None
    if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
        if inner.func.attr == "pow" and len(inner.args) == 1 and int_value(inner.args[0]) == 2:
            return inner.func.value
        if inner.func.attr == "square" and not inner.args:
            return inner.func.value
    if isinstance(inner, ast.BinOp):
        if isinstance(inner.op, ast.Pow) and int_value(inner.right) == 2:
            return inner.left
        if isinstance(inner.op, ast.Mult) and same(inner.left, inner.right):
            return inner.left
    return None


def _rms(scope: _Scope, at: At) -> tuple[ast.expr, ast.expr] | None:
    """(x, eps) for `x * torch.rsqrt(ms + eps)` or `x / torch.sqrt(ms + eps)`, ms the mean of x squared."""
    node = at.node
    if not isinstance(node, ast.BinOp):
        return None
    pairs: list[tuple[ast.expr, ast.expr, str]] = []
    if isinstance(node.op, ast.Mult):
        pairs = [(node.left, node.right, "torch.rsqrt"), (node.right, node.left, "torch.rsqrt")]
    elif isinstance(node.op, ast.Div):
        pairs = [(node.left, node.right, "torch.sqrt")]
    for x, root, fn in pairs:
        r = scope.flow.resolve(At(root, at.stmt))
        if not (isinstance(r.node, ast.Call) and call_name(r.node) == fn and len(r.node.args) == 1):
            continue
        total = scope.flow.resolve(At(r.node.args[0], r.stmt)).node
        if not (isinstance(total, ast.BinOp) and isinstance(total.op, ast.Add)):
            continue
        for ms_side, eps in ((total.left, total.right), (total.right, total.left)):
            squared = _mean_of_squares(scope, At(ms_side, r.stmt))
            if squared is not None and same(
                scope.flow.resolve(At(squared, r.stmt)).node, scope.flow.resolve(At(x, at.stmt)).node
            ):
                return x, eps
    return None


def _mean_last(scope: _Scope, at: At) -> At | None:
    """x for `x.mean(dim=-1, keepdim=True)` or `torch.mean(x, -1, keepdim=True)`."""
    node = scope.flow.resolve(at).node
    keep = keyword(node, "keepdim") if isinstance(node, ast.Call) else None
    if not (isinstance(node, ast.Call) and isinstance(keep, ast.Constant) and keep.value is True):
        return None
    if call_name(node) == "torch.mean" and node.args and int_value(keyword(node, "dim", 1)) == -1:
        return At(node.args[0], scope.flow.resolve(at).stmt)
    if (
        isinstance(node.func, ast.Attribute)
        and node.func.attr == "mean"
        and int_value(keyword(node, "dim", 0)) == -1
    ):
        return At(node.func.value, scope.flow.resolve(at).stmt)
    return None


def _centered(scope: _Scope, at: At) -> At | None:
    """x for `x - x.mean(-1, keepdim=True)` (through names)."""
    node = at.node
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub)):
        return None
    mean_of = _mean_last(scope, At(node.right, at.stmt))
    if mean_of is None:
        return None
    if same(scope.flow.resolve(mean_of).node, scope.flow.resolve(At(node.left, at.stmt)).node):
        return At(node.left, at.stmt)
    return None


def _norm_plain(scope: _Scope, at: At, until: int) -> _Fusable | None:
    """RMSNorm without a weight, or LayerNorm without weight and bias when x was centred first."""
    rms = _rms(scope, at)
    if rms is None:
        return None
    eps = scope.take(At(rms[1], at.stmt), until)
    x_at = At(rms[0], at.stmt)
    centered = _centered(scope, scope.flow.resolve(x_at))
    if centered is not None:
        x = scope.take(centered, until)
        return _Fusable(FusedOp.LAYER_NORM, (x, "None", "None", eps), "LayerNorm") if x and eps else None
    x = scope.take(x_at, until)
    return _Fusable(FusedOp.RMS_NORM, (x, "None", eps), "RMSNorm") if x and eps else None


def _norm(scope: _Scope, at: At, until: int) -> _Fusable | None:
    """A norm written out: `rms * w`, `(x - mean) * rsqrt(var + eps) * w + b`, either operand order."""
    node = at.node
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        for normed, bias in ((node.left, node.right), (node.right, node.left)):
            inner = _norm_weighted(scope, scope.flow.resolve(At(normed, at.stmt)), until)
            if inner is None or inner.op is not FusedOp.LAYER_NORM or inner.args[2] != "None":
                continue
            b = scope.take(At(bias, at.stmt), until) if isinstance(bias, ast.Name | ast.Attribute) else None
            if b:
                x, w, _, eps = inner.args
                return _Fusable(FusedOp.LAYER_NORM, (x, w, b, eps), "LayerNorm")
    return _norm_weighted(scope, at, until)


def _norm_weighted(scope: _Scope, at: At, until: int) -> _Fusable | None:
    node = at.node
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for normed, weight in ((node.left, node.right), (node.right, node.left)):
            inner = _norm_plain(scope, scope.flow.resolve(At(normed, at.stmt)), until)
            if inner is None or not isinstance(weight, ast.Name | ast.Attribute):
                continue
            w = scope.take(At(weight, at.stmt), until)
            if w:
                args = list(inner.args)
                args[1] = w
                return _Fusable(inner.op, tuple(args), inner.what)
    return _norm_plain(scope, at, until)


def _fusable(scope: _Scope, at: At) -> _Fusable | None:
    node = at.node
    until = at.stmt

    def take(n: ast.expr) -> str | None:
        return scope.take(At(n, at.stmt), until)

    norm = _norm(scope, at, until)
    if norm is not None:
        return norm
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for gated, other in ((node.left, node.right), (node.right, node.left)):
            g = scope.flow.resolve(At(gated, at.stmt))
            if not (isinstance(g.node, ast.Call) and len(g.node.args) == 1):
                continue
            a, b = scope.take(At(g.node.args[0], g.stmt), until), take(other)
            if not (a and b):
                continue
            name = call_name(g.node)
            if name in SILU_CALLS:
                return _Fusable(FusedOp.SILU_MUL, (a, b), "SiLU * mul (SwiGLU)")
            if name in GELU_CALLS:
                approx = keyword(g.node, "approximate")
                mode = approx.value if isinstance(approx, ast.Constant) else "none"
                if mode in ("none", "tanh"):
                    return _Fusable(FusedOp.GELU_MUL, (a, b, repr(mode)), "GELU * mul (GeGLU)")
    if isinstance(node, ast.Call):
        soft = _softmax_arg(node)
        if soft is not None:
            x = take(soft)
            return _Fusable(FusedOp.SOFTMAX, (x,), "softmax") if x else None
        layer = scope.layer(node)
        if layer is not None and len(node.args) == 1:
            name, ctor = layer
            if dotted(ctor.func).rsplit(".", 1)[-1] == "LayerNorm" and len(ctor.args) <= 1:
                x = take(node.args[0])
                if x:
                    return _Fusable(
                        FusedOp.LAYER_NORM, (x, f"{name}.weight", f"{name}.bias", f"{name}.eps"), "LayerNorm"
                    )
        if call_name(node) in LAYER_NORM_CALLS and len(node.args) >= 2:
            shape = node.args[1]
            if isinstance(shape, ast.Tuple | ast.List) and len(shape.elts) == 1:
                x = take(node.args[0])
                eps = keyword(node, "eps", 4)
                parts = [
                    take(p) if p is not None else "None"
                    for p in (keyword(node, "weight", 2), keyword(node, "bias", 3))
                ]
                eps_text = take(eps) if eps is not None else "1e-5"
                if x and None not in parts and eps_text:
                    return _Fusable(
                        FusedOp.LAYER_NORM, (x, parts[0] or "None", parts[1] or "None", eps_text), "LayerNorm"
                    )
    return None


def _triton(config_index: int) -> Callable[[_Scope, At, bool], _Hit | None]:
    def match(scope: _Scope, at: At, on_gpu: bool) -> _Hit | None:
        found = _fusable(scope, at)
        if found is None:
            return None
        options = fused_kernels.configs(found.op)
        config = options[min(config_index, len(options) - 1)]
        text = f"{fused_kernels.wrapper_name(found.op)}({', '.join(found.args)})"
        return _Hit(
            at.node,
            text,
            helpers=(fused_kernels.source(found.op, config),),
            imports=fused_kernels.REQUIRED_IMPORTS,
            what=f"{found.what} (Triton, {config.slug()})",
        )

    return match


def _liger(scope: _Scope, at: At, on_gpu: bool) -> _Hit | None:
    found = _fusable(scope, at)
    if found is None:
        return None
    args = found.args
    if found.op is FusedOp.RMS_NORM and args[1] == "None":
        return None
    if found.op is FusedOp.GELU_MUL:
        if args[2] != repr("tanh"):
            return None  # liger's GeGLU is the tanh approximation
        args = args[:2]
    module, cls = LIGER[found.op]
    return _Hit(
        at.node, f"{cls}.apply({', '.join(args)})", imports=(f"from {module} import {cls}",), what=found.what
    )


# ---- chains torch has one op for --------------------------------------------------------------------


def _max_of(scope: _Scope, at: At) -> tuple[At, int] | None:
    """(x, dim) for `x.max(dim=d, keepdim=True).values`, `x.amax(dim=d, keepdim=True)`, `torch.amax(...)`."""
    node = scope.flow.resolve(at).node
    stmt = scope.flow.resolve(at).stmt
    if (isinstance(node, ast.Attribute) and node.attr == "values") or (
        isinstance(node, ast.Subscript) and int_value(node.slice) == 0
    ):
        node = node.value
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return None
    keep = keyword(node, "keepdim", 1)
    if not (isinstance(keep, ast.Constant) and keep.value is True):
        return None
    if node.func.attr in ("max", "amax"):
        dim = int_value(keyword(node, "dim", 0))
        return None if dim is None else (At(node.func.value, stmt), dim)
    return None


def _softmax_written_out(scope: _Scope, at: At) -> tuple[At, int] | None:
    """(x, dim) for `e / e.sum(dim, keepdim=True)` with e = exp(x - max(x, dim)) (or exp(x))."""
    node = at.node
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)):
        return None
    total = scope.flow.resolve(At(node.right, at.stmt)).node
    if not (
        isinstance(total, ast.Call) and isinstance(total.func, ast.Attribute) and total.func.attr == "sum"
    ):
        return None
    keep = keyword(total, "keepdim", 1)
    dim = int_value(keyword(total, "dim", 0))
    if not (isinstance(keep, ast.Constant) and keep.value is True) or dim is None:
        return None
    num = scope.flow.resolve(At(node.left, at.stmt))
    if not same(scope.flow.resolve(At(total.func.value, at.stmt)).node, num.node):
        return None
    if not (
        isinstance(num.node, ast.Call) and call_name(num.node) in ("torch.exp",) and len(num.node.args) == 1
    ):
        return None
    arg = scope.flow.resolve(At(num.node.args[0], num.stmt))
    if isinstance(arg.node, ast.BinOp) and isinstance(arg.node.op, ast.Sub):
        found = _max_of(scope, At(arg.node.right, arg.stmt))
        left = scope.flow.resolve(At(arg.node.left, arg.stmt))
        if found is not None and found[1] == dim and same(scope.flow.resolve(found[0]).node, left.node):
            return At(arg.node.left, arg.stmt), dim
        return None
    return At(num.node.args[0], num.stmt), dim


def _cubed(scope: _Scope, node: ast.expr, stmt: int) -> ast.expr | None:
    node = scope.flow.resolve(At(node, stmt)).node
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and int_value(node.right) == 3:
        return node.left
    if isinstance(node, ast.Call) and call_name(node) == "torch.pow" and len(node.args) == 2:
        exp = node.args[1]
        if isinstance(exp, ast.Constant) and exp.value in (3, 3.0):
            return node.args[0]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        left = node.left
        if isinstance(left, ast.BinOp) and isinstance(left.op, ast.Mult) and same(left.left, left.right):
            return left.left if same(left.left, node.right) else None
    return None


def _tanh_gelu(scope: _Scope, at: At) -> At | None:
    """x for `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))`, the operands in either order."""
    node = at.node
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
        return None
    for half, bracket in ((node.left, node.right), (node.right, node.left)):
        h = scope.flow.resolve(At(half, at.stmt)).node
        if not (isinstance(h, ast.BinOp) and isinstance(h.op, ast.Mult)):
            continue
        x = h.right if _is_const(h.left, 0.5) else h.left if _is_const(h.right, 0.5) else None
        b = scope.flow.resolve(At(bracket, at.stmt))
        if x is None or not (isinstance(b.node, ast.BinOp) and isinstance(b.node.op, ast.Add)):
            continue
        tanh = (
            b.node.right
            if _is_const(b.node.left, 1.0)
            else b.node.left
            if _is_const(b.node.right, 1.0)
            else None
        )
        if not (isinstance(tanh, ast.Call) and call_name(tanh) == "torch.tanh" and len(tanh.args) == 1):
            continue
        inner = scope.flow.resolve(At(tanh.args[0], b.stmt))
        if "0.044715" not in ast.unparse(inner.node) or "sqrt(2" not in ast.unparse(inner.node).replace(
            " ", ""
        ):
            continue
        cubes = [
            c for n in ast.walk(inner.node) if isinstance(n, ast.expr) and (c := _cubed(scope, n, inner.stmt))
        ]
        x_value = scope.flow.resolve(At(x, at.stmt)).node
        if cubes and all(same(scope.flow.resolve(At(c, inner.stmt)).node, x_value) for c in cubes):
            return At(x, at.stmt)
    return None


def _is_const(node: ast.expr, value: float) -> bool:
    return (
        isinstance(node, ast.Constant) and isinstance(node.value, int | float) and float(node.value) == value
    )


def _torch_ops(scope: _Scope, at: At, on_gpu: bool) -> _Hit | None:
    until = at.stmt
    found = _softmax_written_out(scope, at)
    if found is not None:
        x = scope.take(found[0], until)
        return _Hit(at.node, f"torch.softmax({x}, dim={found[1]})", what="softmax") if x else None
    gelu = _tanh_gelu(scope, at)
    if gelu is not None:
        x = scope.take(gelu, until)
        return _Hit(at.node, f'{F}.gelu({x}, approximate="tanh")', what="tanh-GELU") if x else None
    node = at.node
    # log(softmax(x)) -> log_softmax(x)
    if isinstance(node, ast.Call) and call_name(node) == "torch.log" and len(node.args) == 1:
        inner = scope.flow.resolve(At(node.args[0], at.stmt))
        soft = _softmax_arg(inner.node)
        if soft is not None:
            x = scope.take(At(soft, inner.stmt), until)
            return _Hit(node, f"{F}.log_softmax({x}, dim=-1)", what="log-softmax") if x else None
    # -(log_softmax(x).gather(1, t.unsqueeze(1)).squeeze(1)).mean() -> cross_entropy(x, t)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        mean = node.operand
        if (
            isinstance(mean, ast.Call)
            and isinstance(mean.func, ast.Attribute)
            and mean.func.attr == "mean"
            and not mean.args
            and not mean.keywords
        ):
            return _cross_entropy(scope, At(mean.func.value, at.stmt), node, until)
    return None


def _cross_entropy(scope: _Scope, picked: At, node: ast.expr, until: int) -> _Hit | None:
    p = scope.flow.resolve(picked)
    sq = p.node
    if not (isinstance(sq, ast.Call) and isinstance(sq.func, ast.Attribute) and sq.func.attr == "squeeze"):
        return None
    g = scope.flow.resolve(At(sq.func.value, p.stmt))
    gather = g.node
    if not (
        isinstance(gather, ast.Call)
        and isinstance(gather.func, ast.Attribute)
        and gather.func.attr == "gather"
    ):
        return None
    if len(gather.args) != 2 or int_value(gather.args[0]) not in (1, -1):
        return None
    index = gather.args[1]
    if not (
        isinstance(index, ast.Call)
        and isinstance(index.func, ast.Attribute)
        and index.func.attr == "unsqueeze"
    ):
        return None
    logp = scope.flow.resolve(At(gather.func.value, g.stmt)).node
    if not (
        isinstance(logp, ast.Call)
        and call_name(logp) in ("F.log_softmax", f"{F}.log_softmax", "torch.log_softmax")
    ):
        return None
    if not logp.args or int_value(keyword(logp, "dim", 1)) not in (1, -1):
        return None
    x = scope.take(At(logp.args[0], scope.flow.resolve(At(gather.func.value, g.stmt)).stmt), until)
    t = scope.take(At(index.func.value, g.stmt), until)
    if not (x and t):
        return None
    return _Hit(node, f"{F}.cross_entropy({x}, {t})", what="cross-entropy")


# ---- applying a family -----------------------------------------------------------------------------

Matcher = Callable[[_Scope, At, bool], _Hit | None]


def _apply(
    file_text: str, targets: list[Target], matchers: tuple[Matcher, ...], on_gpu: bool
) -> tuple[str, list[str]] | None:
    """The file with every match of `matchers` in each target replaced, or None where none matched."""
    whats: list[str] = []
    helpers: list[str] = []
    imports: list[str] = []
    text = file_text
    for target in targets:
        hits = _hits(text, target, matchers, on_gpu)
        if hits is None:
            continue
        text, found = hits
        whats += [h.what for h in found]
        helpers += [h for hit in found for h in hit.helpers]
        imports += [i for hit in found for i in hit.imports]
    if not whats:
        return None
    text = add_module_code(text, list(dict.fromkeys(imports)), list(dict.fromkeys(helpers)))
    return text, list(dict.fromkeys(whats))


def _hits(
    file_text: str, target: Target, matchers: tuple[Matcher, ...], on_gpu: bool
) -> tuple[str, list[_Hit]] | None:
    """One function's matches (outermost first, none inside another) replaced, its dead code removed."""
    numbered = ssa.number(file_text, target.func, target.cls)
    scope = _Scope(numbered, target)
    offsets = Offsets(numbered)
    hits: list[_Hit] = []
    spans: list[tuple[int, int]] = []
    for at in scope.flow.expressions():
        start, end = offsets.start(at.node), offsets.end(at.node)
        if any(s <= start and end <= e for s, e in spans):
            continue
        for matcher in matchers:
            hit = matcher(scope, at, on_gpu)
            if hit is not None:
                hits.append(hit)
                spans.append((start, end))
                break
    if not hits:
        return None
    text = apply_splices(numbered, [Splice(offsets.start(h.node), offsets.end(h.node), h.text) for h in hits])
    text = remove_dead_assignments(text, target.func, target.cls)
    return ssa.unnumber(text, target.func, target.cls), hits


def liger_available() -> bool:
    return importlib.util.find_spec("liger_kernel") is not None


def rewrites(
    file_text: str, site_name: str, kind: SiteKind, on_gpu: bool, liger: bool | None = None
) -> list[Rewrite]:
    """Every rewrite family that applies to the site, in the order they are worth trying."""
    try:
        targets = Target.all_of(file_text, site_name, kind)
    except SyntaxError:
        return []
    if not targets:
        return []
    use_liger = liger_available() if liger is None else liger
    families: list[tuple[str, tuple[Matcher, ...], str]] = [
        ("sdpa", (_attention,), "scaled_dot_product_attention: the scores never leave on-chip memory"),
        ("torch-ops", (_torch_ops,), "the one torch op for a chain written out: one pass instead of several"),
        ("addmm-act", (_addmm_act,), "one GEMM with bias and activation in its epilogue (cuBLASLt)"),
        ("linear", (_linear_bias,), "F.linear: the bias add runs in the GEMM's epilogue"),
    ]
    found: list[Rewrite] = []
    for slug, matchers, why in families:
        applied = _apply(file_text, targets, matchers, on_gpu)
        if applied is not None:
            found.append(Rewrite(slug, f"{why} ({', '.join(applied[1])})", applied[0]))
    if use_liger:
        applied = _apply(file_text, targets, (_liger,), on_gpu)
        if applied is not None:
            found.append(
                Rewrite("liger", f"liger-kernel's fused kernels ({', '.join(applied[1])})", applied[0])
            )
    n_configs = max(len(fused_kernels.configs(op)) for op in FusedOp)
    for index in range(n_configs):
        applied = _apply(file_text, targets, (_triton(index),), on_gpu)
        if applied is None:
            break
        slug = "triton-" + _config_slug(index)
        found.append(Rewrite(slug, f"single-pass fused Triton kernels ({', '.join(applied[1])})", applied[0]))
    # Everything at once: attention, then epilogues, then the fused kernels on what is left.
    text, whats = file_text, list[str]()
    for matchers in ((_attention,), (_torch_ops,), (_addmm_act,), (_linear_bias,), (_triton(0),)):
        applied = _apply(text, targets, matchers, on_gpu)
        if applied is not None:
            text, whats = applied[0], whats + applied[1]
    if len(whats) > 1 and all(r.file_text != text for r in found):
        found.insert(0, Rewrite("all", f"every rewrite that applies ({', '.join(whats)})", text))
    return found


def _config_slug(index: int) -> str:
    return f"c{index}"
