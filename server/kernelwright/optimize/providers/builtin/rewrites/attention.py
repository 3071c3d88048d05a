"""Attention written out (scores = q @ k^T times a scale, an optional mask, softmax over the last dim,
@ v) -> `scaled_dot_product_attention` with that mask and scale."""

from __future__ import annotations

import ast

from kernelwright.optimize.providers.builtin.pysource import (
    dotted,
)
from kernelwright.optimize.providers.builtin.rewrites.flow import (
    At,
    call_name,
    int_value,
    is_minus_inf,
    keyword,
)
from kernelwright.optimize.providers.builtin.rewrites.scope import F, Hit, Matcher, Scope

SOFTMAX_CALLS = {"torch.softmax", "F.softmax", "torch.nn.functional.softmax", "nn.functional.softmax"}

MATMUL_CALLS = {"torch.matmul", "torch.mm", "torch.bmm"}


def _last_dim(call: ast.Call, position: int) -> bool:
    return int_value(keyword(call, "dim", position)) == -1 and keyword(call, "dtype") is None


def softmax_arg(node: ast.expr, op: str = "softmax") -> ast.expr | None:
    """x for a call of softmax (or `op`: "log_softmax") over the last dim, as a function or a method."""
    if not isinstance(node, ast.Call):
        return None
    names = SOFTMAX_CALLS if op == "softmax" else {n.replace("softmax", op) for n in SOFTMAX_CALLS}
    if call_name(node) in names and node.args and _last_dim(node, 1):
        return node.args[0]
    if isinstance(node.func, ast.Attribute) and node.func.attr == op and _last_dim(node, 0):
        return node.func.value
    return None


def matmul_operands(node: ast.expr) -> tuple[ast.expr, ast.expr] | None:
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


def _causal_mask(scope: Scope, at: At) -> bool:
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


def _ones(scope: Scope, node: ast.expr | None) -> bool:
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("bool", "to")
    ):
        node = node.func.value
    return isinstance(node, ast.Call) and call_name(node) == "torch.ones"


def attention(scope: Scope, at: At, on_gpu: bool) -> Hit | None:
    pair = matmul_operands(at.node)
    if pair is None:
        return None
    until = at.stmt
    weights = scope.flow.resolve(At(pair[0], at.stmt))
    logits_node = softmax_arg(weights.node)
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
    return Hit(at.node, text, what=what)


def _scaled_scores(scope: Scope, at: At) -> tuple[At, At, At | None, bool] | None:
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
            pair = matmul_operands(inner.node)
            if pair is not None and _transposed(pair[1]) is not None:
                scale, divide = At(scale_side, at.stmt), isinstance(node.op, ast.Div)
                at, node = inner, inner.node
                break
        else:
            return None
    pair = matmul_operands(node)
    if pair is None:
        return None
    k = _transposed(pair[1])
    if k is None:
        return None
    return At(pair[0], at.stmt), At(k, at.stmt), scale, divide


# SDPA's kernels on a GPU, other than the one it picks itself: cuDNN's fused attention (on Hopper often
# faster than FlashAttention-2 at head dims 64-128) and the memory-efficient kernel (which takes masks
# flash does not). Each is its own candidate: one that cannot take the shapes, dtype or mask raises, and
# is rejected like any other.
SDPA_BACKENDS = {"cudnn": "CUDNN_ATTENTION", "efficient": "EFFICIENT_ATTENTION"}
BACKEND_IMPORT = "from torch.nn.attention import SDPBackend as _KwSDPBackend, sdpa_kernel as _kw_sdpa_kernel"


def _backend_helper(backend: str) -> str:
    return (
        f"def _kw_sdpa_{backend}(*args, **kwargs):\n"
        f"    with _kw_sdpa_kernel(_KwSDPBackend.{SDPA_BACKENDS[backend]}):\n"
        f"        return {F}.scaled_dot_product_attention(*args, **kwargs)\n"
    )


def attention_on(backend: str) -> Matcher:
    """The attention rewrite with SDPA held to one of its kernels (GPU only)."""

    def matcher(scope: Scope, at: At, on_gpu: bool) -> Hit | None:
        hit = attention(scope, at, on_gpu) if on_gpu else None
        if hit is None:
            return None
        return Hit(
            hit.node,
            hit.text.replace(f"{F}.scaled_dot_product_attention(", f"_kw_sdpa_{backend}(", 1),
            helpers=(_backend_helper(backend),),
            imports=(BACKEND_IMPORT,),
            what=f"{hit.what} on {backend}",
        )

    return matcher
