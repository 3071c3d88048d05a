"""The FLOPs a problem's answer does not depend on: products at positions a mask removes before a softmax.

Causal attention written out (scores = q @ k^T, masked_fill(triu, -inf), softmax, @ v), or asked of SDPA
with `is_causal=True` or a mask, computes the whole score matrix, but about half of it never reaches the
output: a masked score becomes exactly 0 after the softmax, and so does its product with v. A fused kernel
skips those blocks, and the field counts causal attention's FLOPs as half (FlashAttention's benchmarks).
torch's flop counter counts them all, so a roofline floor built on it claims twice the compute an ideal
kernel needs: the fraction it reports flatters a causal kernel, and one that truly runs near the peak
would read as faster than the floor and be refused (roofline.beyond_roof).

`MaskedWork` runs beside torch's FlopCounterMode over the same call and adds up what may be skipped, so
`count_flops` reports the work the answer needs. It follows the matmul that made a tensor through views
and elementwise ops to a fill so negative that the softmax gives exactly zero (masked_fill, where, or an
additive mask at or below -1e4), discounts that matmul's FLOPs by the share of masked positions, and
discounts the next matmul that takes the softmax's output by the same share; SDPA's own kernels are
discounted by the share their causal flag and mask remove. Only FLOPs torch's counter counted are ever
discounted, and a mask is never inferred from data: zeros a ReLU makes are not structural, and a dense
kernel must still multiply them.
"""

from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import flop_registry

# A fill at or below this is -inf to a softmax: exp(-1e4) is 0 in every floating dtype.
MASK_VALUE = -1e4

_MATMULS = {"mm": (0, 1), "bmm": (0, 1), "addmm": (1, 2), "baddbmm": (1, 2)}  # name -> (left, right) args
_SDPA = {
    "_scaled_dot_product_flash_attention",
    "_scaled_dot_product_efficient_attention",
    "_scaled_dot_product_cudnn_attention",
    "_scaled_dot_product_flash_attention_for_cpu",
    "_scaled_dot_product_fused_attention_overrideable",
}
_SOFTMAX = {"_softmax", "softmax"}
# Ops that keep a masked position masked, by what it holds: -inf stays -inf through a shift, a positive
# scale or a copy; an exact 0 stays 0 through a scale, a division, dropout or a copy. exp turns -inf to 0.
_COPIES = {"_to_copy", "clone", "contiguous", "copy", "detach", "alias", "lift_fresh", "native_dropout"}
_KEEPS_NEG_INF = _COPIES | {"add", "sub", "mul", "div"}
_KEEPS_ZERO = _COPIES | {"mul", "div"}


@dataclass(frozen=True)
class _Tag:
    """What a tensor descends from: the FLOPs of the matmul that made it (kept through its masks, so a
    second mask discounts only what the first left; 0 past the softmax), the share of its positions that
    are masked, whether they hold -inf (scores) or exactly 0 (after the softmax), and the mask itself
    while its positions still line up with the tensor's."""

    flops: int = 0
    masked: float = 0.0
    zero: bool = False
    mask: torch.Tensor | None = None


class MaskedWork(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.skipped = 0
        self._tags: dict[int, tuple[weakref.ref[torch.Tensor], _Tag]] = {}

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        with contextlib.suppress(Exception):  # bookkeeping only: never break the call being counted
            self._follow(func, args, kwargs, out)
        return out

    # ---- tags ------------------------------------------------------------------------------------------

    def _tag(self, t: Any) -> _Tag | None:
        if not isinstance(t, torch.Tensor):
            return None
        found = self._tags.get(id(t))
        if found is None or found[0]() is not t:
            return None
        return found[1]

    def _set(self, t: Any, tag: _Tag) -> None:
        if isinstance(t, torch.Tensor):
            key = id(t)

            def forget(_ref: weakref.ref[torch.Tensor], key: int = key) -> None:
                self._tags.pop(key, None)

            self._tags[key] = (weakref.ref(t, forget), tag)

    # ---- one op ----------------------------------------------------------------------------------------

    def _follow(self, func: Any, args: Any, kwargs: Any, out: Any) -> None:
        name = func.overloadpacket.__name__
        formula = flop_registry.get(func.overloadpacket)  # only what torch's counter counts is discounted
        if name in _MATMULS and formula is not None:
            flops = int(formula(*args, **kwargs, out_val=out))
            # A factor that is structurally 0 at a share of its positions (past a masked softmax)
            # makes that share of the products nothing.
            zeroed = [
                t.masked for t in (self._tag(args[i]) for i in _MATMULS[name]) if t is not None and t.zero
            ]
            self.skipped += int(flops * max(zeroed, default=0.0))
            self._set(out, _Tag(flops=flops))
            return
        if name in _SDPA and formula is not None:
            flops = int(formula(*args, **kwargs, out_val=out))
            self.skipped += int(flops * _sdpa_masked(func, args, kwargs))
            return
        tensors = [a for a in tree_leaves((args, kwargs)) if isinstance(a, torch.Tensor)]
        if not isinstance(out, torch.Tensor) or not tensors:
            return
        masking = _mask_of(name, args, self._tag)
        if masking is not None:
            scores, where = masking
            self._set(out, self._masked(self._tag(scores) or _Tag(), where, tuple(out.shape)))
            return
        source = next((t for t in tensors if self._tag(t) is not None and t.numel() == out.numel()), None)
        if source is None:
            return
        tag = self._tag(source)
        assert tag is not None
        same_place = tuple(source.shape) == tuple(out.shape)
        if _is_view(func):  # the same values: a reshape keeps the share, not the mask's positions
            self._set(out, _Tag(tag.flops, tag.masked, tag.zero, tag.mask if same_place else None))
        elif not same_place:
            return
        elif tag.masked and not tag.zero and (name in _SOFTMAX or name == "exp"):
            self._set(out, _Tag(masked=tag.masked, zero=True, mask=tag.mask))  # -inf -> exactly 0
        elif tag.masked and name not in (_KEEPS_ZERO if tag.zero else _KEEPS_NEG_INF):
            self._set(out, _Tag(flops=tag.flops))  # the masked positions hold something else now
        else:
            self._set(out, tag)

    def _masked(self, tag: _Tag, mask: torch.Tensor, shape: tuple[int, ...]) -> _Tag:
        """`tag`'s tensor with `mask` set to -inf too: discount its matmul by the newly masked share.

        A broadcast repeats every element of the mask equally often, so the share is the mask's own mean:
        nothing of the scores' size is made."""
        if tag.zero:  # masking what is already past the softmax: its share of zeros is not known
            return _Tag()
        union: torch.Tensor | None = mask if tag.mask is None else (tag.mask | mask)
        assert union is not None
        if torch.broadcast_shapes(union.shape, shape) == torch.Size(shape):  # type: ignore[no-untyped-call]
            share = float(union.float().mean())
        else:
            union, share = None, max(tag.masked, float(mask.float().mean()))
        self.skipped += int(tag.flops * max(0.0, share - tag.masked))
        return _Tag(tag.flops, share, False, union)


def _is_view(func: Any) -> bool:
    return bool(getattr(func, "is_view", False)) or func.overloadpacket.__name__ in {
        "_unsafe_view",
        "reshape",
    }


def _mask_of(name: str, args: Any, tag_of: Any) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(the scores, where they become -inf) for an op that masks, else None. An additive mask is looked
    for only on what a matmul made (`tag_of`): every other add is a residual, not worth a pass."""
    if name == "masked_fill" and len(args) >= 3:
        value = args[2]
        value = float(value) if not isinstance(value, torch.Tensor) else float(value.reshape(-1)[0])
        if value <= MASK_VALUE and isinstance(args[1], torch.Tensor) and args[1].dtype is torch.bool:
            return args[0], args[1]
    if name == "where" and len(args) == 3 and all(isinstance(a, torch.Tensor) for a in args):
        cond, a, b = args
        for scores, fill, masked in ((a, b, ~cond), (b, a, cond)):
            if fill.numel() == 1 and float(fill.reshape(-1)[0]) <= MASK_VALUE and scores.numel() > 1:
                return scores, masked
    if name == "add" and len(args) >= 2 and all(isinstance(a, torch.Tensor) for a in args[:2]):
        for scores, bias in ((args[0], args[1]), (args[1], args[0])):
            if tag_of(scores) is None or not bias.is_floating_point() or bias.numel() > scores.numel():
                continue
            below = bias <= MASK_VALUE
            if bool(below.any()):
                return scores, below
    return None


def _sdpa_masked(func: Any, args: Any, kwargs: Any) -> float:
    """The share of (query, key) pairs SDPA's causal flag and mask remove."""
    names = [a.name for a in func._schema.arguments]
    bound = dict(zip(names, args, strict=False)) | kwargs
    query, key = bound["query"], bound["key"]
    length, keys = query.shape[-2], key.shape[-2]
    removed = torch.zeros((length, keys), dtype=torch.bool, device=query.device)
    if bound.get("is_causal"):
        removed |= torch.ones_like(removed).triu(diagonal=1)  # SDPA's causal mask is top-left aligned
    mask = bound.get("attn_mask", bound.get("attn_bias"))
    if isinstance(mask, torch.Tensor):
        dropped = ~mask if mask.dtype is torch.bool else mask <= MASK_VALUE
        removed = removed | dropped
    return float(removed.float().mean())
