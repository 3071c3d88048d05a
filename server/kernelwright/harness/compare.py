"""Compare a candidate's outputs with the reference's: structure, type, shape, dtype, then values, with
tolerances by dtype on each element AND on the relative error norm (docs/PITFALLS.md 11)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from kernelwright.core.jobs import ProblemRef
from kernelwright.core.measure import CheckName
from kernelwright.core.site import CudaSpec, FunctionSpec

# (atol, rtol) by dtype when the spec gives none. The norm check uses rtol as its bound.
DEFAULT_TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float64: (1e-7, 1e-7),
    torch.float32: (1e-4, 1e-3),
    torch.float16: (1e-3, 1e-2),
    torch.bfloat16: (1e-2, 2e-2),
}
FP8_TOLERANCE = (1e-1, 1.25e-1)


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float


def tolerance_for(dtype: torch.dtype, atol: float | None, rtol: float | None) -> Tolerance:
    default = DEFAULT_TOLERANCES.get(dtype, FP8_TOLERANCE if "float8" in str(dtype) else (0.0, 0.0))
    return Tolerance(atol if atol is not None else default[0], rtol if rtol is not None else default[1])


def tolerances(ref: ProblemRef) -> tuple[float | None, float | None]:
    """The problem's own atol/rtol (a function's or CUDA kernel's directive); None: the dtype's default."""
    spec = ref.spec
    if isinstance(spec, FunctionSpec | CudaSpec):
        return spec.atol, spec.rtol
    return None, None


@dataclass(frozen=True)
class Mismatch:
    check: CheckName
    message: str
    details: dict[str, float] = field(default_factory=dict)


def flatten(value: Any, where: str = "output") -> list[tuple[str, Any]]:
    """Outputs as (label, leaf) pairs: tensors, numbers, None; tuples/lists/dicts opened in order."""
    if isinstance(value, tuple | list):
        out: list[tuple[str, Any]] = []
        for i, v in enumerate(value):
            out.extend(flatten(v, f"{where}[{i}]"))
        return out
    if isinstance(value, dict):
        out = []
        for k in sorted(value, key=str):
            out.extend(flatten(value[k], f"{where}[{k!r}]"))
        return out
    return [(where, value)]


def problem_size(args: tuple[Any, ...]) -> str:
    """A call's arguments as read by a person: "arg[0]: float32[16, 512]; arg[1]=3"."""
    parts: list[str] = []
    for label, leaf in flatten(args, "arg"):
        if isinstance(leaf, torch.Tensor):
            parts.append(f"{label}: {str(leaf.dtype).replace('torch.', '')}{list(leaf.shape)}")
        elif isinstance(leaf, int | float):
            parts.append(f"{label}={leaf}")
    return "; ".join(parts)


def structure(value: Any) -> str:
    if isinstance(value, tuple | list):
        return f"{type(value).__name__}[{', '.join(structure(v) for v in value)}]"
    if isinstance(value, dict):
        return "dict{" + ", ".join(f"{k}: {structure(value[k])}" for k in sorted(value, key=str)) + "}"
    if isinstance(value, torch.Tensor):
        return "Tensor"
    return type(value).__name__


def lazy_outputs(value: Any) -> list[str]:
    """Labels of outputs that are tensors but not exactly torch.Tensor (subclasses can compute on read)."""
    return [
        f"{label} is {type(leaf).__module__}.{type(leaf).__name__}"
        for label, leaf in flatten(value)
        if isinstance(leaf, torch.Tensor) and type(leaf) is not torch.Tensor
    ]


# Elements per chunk of a comparison: float64 working copies of this many elements (and a few
# temporaries) are all a comparison holds beyond the two outputs, whatever their size.
CHUNK = 1 << 21


def _chunks(c: torch.Tensor, r: torch.Tensor) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """(offset, candidate chunk, reference chunk) in float64, over the flattened tensors."""
    cf, rf = c.detach().reshape(-1), r.detach().reshape(-1)
    for start in range(0, rf.numel(), CHUNK):
        stop = min(start + CHUNK, rf.numel())
        yield start, cf[start:stop].to(torch.float64), rf[start:stop].to(torch.float64)


def _norm(x: torch.Tensor) -> float:
    """The 2-norm, scaled by the largest magnitude first so squares of large values do not overflow."""
    if x.numel() == 0:
        return 0.0
    top = float(x.abs().max())
    if top == 0.0 or not math.isfinite(top):
        return top
    return top * float(torch.linalg.vector_norm(x / top))


def rel_error_norm(candidate: torch.Tensor, reference: torch.Tensor) -> float:
    """||candidate - reference|| / ||reference||, NaN where both are NaN counting as equal; chunked."""
    nums: list[float] = []
    dens: list[float] = []
    for _, c, r in _chunks(candidate, reference):
        both_nan = torch.isnan(c) & torch.isnan(r)
        diff = torch.where(both_nan, 0.0, c - r)
        nums.append(_norm(diff))
        dens.append(_norm(torch.nan_to_num(r)))
    num, denom = math.hypot(*nums), math.hypot(*dens)  # overflow-safe sums of squares
    if denom == 0.0:
        return 0.0 if num == 0.0 else math.inf
    return num / denom


def compare(
    candidate: Any,
    reference: Any,
    atol: float | None,
    rtol: float | None,
    norm_slack: float = 1.0,
    check_norm: bool = True,
) -> Mismatch | None:
    """None when they match; else the first mismatch, with its check name and numbers.

    `norm_slack` widens the tolerances for non-deterministic references (derived from their own spread).
    `check_norm=False` leaves out the relative error norm (for outputs that are rounding noise, whose
    norm check the verifier makes against float64 instead).
    """
    if structure(candidate) != structure(reference):
        return Mismatch(
            CheckName.STRUCTURE,
            f"outputs differ in structure: candidate returns {structure(candidate)}, "
            f"the reference {structure(reference)}",
        )
    lazy = lazy_outputs(candidate)
    if lazy:
        return Mismatch(
            CheckName.LAZY_OUTPUT,
            f"outputs must be plain torch.Tensor (a subclass can compute on read): {lazy[0]}",
        )
    for (label, c), (_, r) in zip(flatten(candidate), flatten(reference), strict=True):
        found = _compare_leaf(label, c, r, atol, rtol, norm_slack, check_norm)
        if found is not None:
            return found
    return None


def _compare_leaf(
    label: str, c: Any, r: Any, atol: float | None, rtol: float | None, slack: float, check_norm: bool
) -> Mismatch | None:
    if not isinstance(r, torch.Tensor):
        if isinstance(r, float) and isinstance(c, int | float):
            tol = tolerance_for(torch.float64, atol, rtol)
            if math.isclose(c, r, rel_tol=tol.rtol * slack, abs_tol=tol.atol * slack):
                return None
        elif c == r:
            return None
        return Mismatch(CheckName.VALUE, f"{label}: candidate {c!r}, reference {r!r}")
    assert isinstance(c, torch.Tensor)
    if c.shape != r.shape:
        return Mismatch(
            CheckName.SHAPE, f"{label}: shape {tuple(c.shape)}, the reference has {tuple(r.shape)}"
        )
    if c.dtype != r.dtype:
        return Mismatch(CheckName.DTYPE, f"{label}: dtype {c.dtype}, the reference has {r.dtype}")
    if c.device != r.device:
        return Mismatch(CheckName.DEVICE, f"{label}: on {c.device}, the reference's is on {r.device}")
    if c.numel() == 0:
        return None
    if not (r.is_floating_point() or r.is_complex()):
        if torch.equal(c, r):
            return None
        bad = int((c != r).sum())
        return Mismatch(
            CheckName.VALUE,
            f"{label}: {bad} of {r.numel()} elements differ (exact match required for {r.dtype})",
            {"mismatched": float(bad), "numel": float(r.numel())},
        )
    tol = tolerance_for(r.dtype, atol, rtol)
    a, t = tol.atol * slack, tol.rtol * slack
    scan = _scan(c, r, a, t)
    if scan.stray_nan:
        return Mismatch(
            CheckName.UNWRITTEN,
            f"{label}: {scan.stray_nan} of {r.numel()} elements are NaN where the reference is finite (first "
            f"at index {_unravel(scan.first_nan, r.shape)}); outputs are NaN-poisoned before each run, so "
            f"these elements were never written (or the kernel produced NaN)",
            {"nan_elements": float(scan.stray_nan), "numel": float(r.numel())},
        )
    rel_norm = rel_error_norm(c, r)
    details = {"max_abs_err": scan.max_abs, "rel_err_norm": rel_norm, "atol": a, "rtol": t}
    if scan.over:
        return Mismatch(
            CheckName.VALUE,
            f"{label}: {scan.over} of {r.numel()} elements outside atol={a:g} rtol={t:g}; max abs error "
            f"{scan.max_abs:.3g}; first at index {_unravel(scan.first_over, r.shape)}: candidate "
            f"{scan.first_values[0]:.6g}, reference {scan.first_values[1]:.6g}",
            {**details, "mismatched": float(scan.over), "numel": float(r.numel())},
        )
    if check_norm and rel_norm > t:
        return Mismatch(
            CheckName.ERROR_NORM,
            f"{label}: relative error norm {rel_norm:.3g} exceeds rtol={t:g} though every element is "
            f"within atol={a:g} (the outputs are small: a near-zero answer would pass elementwise)",
            details,
        )
    return None


@dataclass
class _Scan:
    stray_nan: int = 0  # NaN in the candidate where the reference is not
    first_nan: int = -1
    over: int = 0  # elements outside atol + rtol * |reference|
    first_over: int = -1
    first_values: tuple[float, float] = (0.0, 0.0)  # candidate, reference at first_over
    max_abs: float = 0.0


def _scan(c: torch.Tensor, r: torch.Tensor, a: float, t: float) -> _Scan:
    """The elementwise checks, one chunk at a time."""
    scan = _Scan()
    for start, c64, r64 in _chunks(c, r):
        c_nan, r_nan = torch.isnan(c64), torch.isnan(r64)
        stray = c_nan & ~r_nan
        n = int(stray.sum())
        if n and scan.first_nan < 0:
            scan.first_nan = start + _flat(stray)
        scan.stray_nan += n
        if scan.stray_nan:
            continue  # reported on its own; the rest only counts NaNs
        diff = torch.where(c_nan & r_nan, 0.0, (c64 - r64).abs())
        diff = torch.where(torch.isinf(r64) & (c64 == r64), 0.0, diff)
        over = diff > a + t * r64.abs()
        n = int(over.sum())
        if n and scan.first_over < 0:
            i = _flat(over)
            scan.first_over = start + i
            scan.first_values = (float(c64[i]), float(r64[i]))
        scan.over += n
        scan.max_abs = max(scan.max_abs, float(diff.max()))
    return scan


def _unravel(flat: int, shape: torch.Size) -> tuple[int, ...]:
    index = []
    for dim in reversed(shape):
        index.append(flat % dim)
        flat //= dim
    return tuple(reversed(index))


def _flat(mask: torch.Tensor) -> int:
    return int(mask.flatten().nonzero()[0, 0])


def error_norms(candidate: Any, reference: Any) -> list[float]:
    """Relative error norm of each floating output (for precision and determinism estimates)."""
    out: list[float] = []
    for (_, c), (_, r) in zip(flatten(candidate), flatten(reference), strict=True):
        tensors = isinstance(c, torch.Tensor) and isinstance(r, torch.Tensor)
        if tensors and r.is_floating_point() and c.shape == r.shape and r.numel() > 0:
            out.append(rel_error_norm(c, r))
    return out


def map_tensors(value: Any, fn: Callable[[torch.Tensor], Any]) -> Any:
    """`value` with `fn` applied to every tensor in it, keeping the containers' own types: a namedtuple,
    torch's return types (`torch.max(x, dim=1)` gives a `torch.return_types.max`) and dict subclasses
    come back as what they were, so the structure check compares like with like."""
    if isinstance(value, torch.Tensor):
        return fn(value)
    if isinstance(value, tuple):
        items = [map_tensors(v, fn) for v in value]
        if type(value) is tuple:
            return tuple(items)
        if hasattr(value, "_fields"):  # a namedtuple takes its fields as arguments
            return type(value)(*items)
        return type(value)(items)  # torch.return_types and other structseqs take one sequence
    if isinstance(value, list):
        items = [map_tensors(v, fn) for v in value]
        return items if type(value) is list else type(value)(items)
    if isinstance(value, dict):
        mapped = {k: map_tensors(v, fn) for k, v in value.items()}
        if type(value) is dict:
            return mapped
        try:
            return type(value)(mapped)
        except TypeError:  # a subclass with another constructor (defaultdict): keep its items
            return mapped
    return value


def clone_tree(value: Any) -> Any:
    return map_tensors(value, lambda t: t.detach().clone())


def tensors_in(value: Any) -> Sequence[torch.Tensor]:
    return [leaf for _, leaf in flatten(value) if isinstance(leaf, torch.Tensor)]


# A candidate that misses the tolerance against the reference may still be right: where the reference
# itself computes at reduced precision (float32 convolutions on cuDNN's TF32, float16 attention with its
# scores materialised in float16), two correct results differ by more than the tolerance. Then the judge
# holds the candidate to the float64 answer instead. Distances are counted in tolerance widths, the
# dtype's atol + rtol * |float64 answer| at each element: rounding errors of a long sum are absolute
# rather than relative, so near zero (a ReLU's output) a relative measure would make any TF32 reference
# look wrong. The reference's own spread is its worst distance but for its EXACT_SPARED worst elements
# (a few badly conditioned elements widen nothing; on an H200 a 99.9th percentile was too tight, 2 of
# 51M elements of a correct float32 convolution fell beyond it), and every element of the candidate may
# be 1 + EXACT_FACTOR times that spread in tolerance widths from float64.
EXACT_FACTOR = 2.0
EXACT_SPARED = 9
EXACT_SPREAD_LIMIT = 50.0  # a reference farther than this from float64 is not merely rounded (TF32: ~1-2)


def _spread(ratio: torch.Tensor) -> float:
    flat = ratio.flatten()
    k = min(flat.numel(), EXACT_SPARED + 1)
    return float(torch.topk(flat, k).values[-1]) if k else 0.0


def as_exact_as_reference(
    candidate: Any, reference: Any, exact: Any, atol: float | None, rtol: float | None
) -> str | None:
    """Why the candidate is not as close to the float64 answer `exact` as the reference is; None when
    every output of it is (outputs that are not floating tensors never are: they compare exactly)."""
    leaves = zip(flatten(candidate), flatten(reference), flatten(exact), strict=True)
    for (label, c), (_, r), (_, t) in leaves:
        if not (isinstance(c, torch.Tensor) and isinstance(r, torch.Tensor) and isinstance(t, torch.Tensor)):
            return f"{label} is not a tensor"
        if not (c.is_floating_point() and c.dtype == r.dtype and c.shape == r.shape == t.shape):
            return f"{label}: not a floating tensor of the reference's dtype and shape"
        exact64, c64, r64 = t.double(), c.double(), r.double()
        if not bool(torch.isfinite(exact64).all() and torch.isfinite(c64).all()):
            return f"{label}: not finite"
        tol = tolerance_for(c.dtype, atol, rtol)
        width = tol.atol + tol.rtol * exact64.abs()
        spread = _spread((r64 - exact64).abs() / width)
        if spread > EXACT_SPREAD_LIMIT:
            return (
                f"{label}: the reference is {spread:.3g} tolerance widths from float64 (its 10th-worst "
                f"element): more than rounding"
            )
        # The norm too, as compare() checks it: elementwise bounds alone pass anything when the values are
        # smaller than atol (a softmax over 32k columns).
        norm_c, norm_r = rel_error_norm(c64, exact64), rel_error_norm(r64, exact64)
        if norm_c > tol.rtol + EXACT_FACTOR * norm_r:
            return (
                f"{label}: relative error norm against float64 {norm_c:.3g}, beyond rtol={tol.rtol:g} plus "
                f"{EXACT_FACTOR:g}x the reference's own ({norm_r:.3g})"
            )
        allowed = 1.0 + EXACT_FACTOR * spread
        distance = (c64 - exact64).abs() / width
        over = distance > allowed
        if bool(over.any()):
            return (
                f"{label}: {int(over.sum())} elements farther from the float64 answer than {allowed:.3g} "
                f"tolerance widths (1 + {EXACT_FACTOR:g}x the reference's own {spread:.3g}), up to "
                f"{float(distance.max()):.3g}"
            )
    return None
