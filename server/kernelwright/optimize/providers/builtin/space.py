"""A discrete search space of launch parameters and a search over it: a coarse spread first, then
coordinate steps around the best measured point, widening when the neighbourhood is used up.

Configurations are tuples of (axis name, value) in axis order, so they hash and compare. Timings come
back from the loop's feedback as medians (None for a configuration that failed to verify).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Config = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple[int, ...]  # in order, so "one step" means the next value either way

    def index(self, value: int) -> int:
        if value in self.values:
            return self.values.index(value)
        return min(
            range(len(self.values)), key=lambda i: abs(math.log2(self.values[i]) - math.log2(max(1, value)))
        )


def powers_of_two(lo: int, hi: int) -> tuple[int, ...]:
    out: list[int] = []
    v = 1
    while v <= hi:
        if v >= lo:
            out.append(v)
        v *= 2
    return tuple(out)


@dataclass(frozen=True)
class Space:
    axes: tuple[Axis, ...]
    start: Config
    valid: Callable[[Mapping[str, int]], bool] = lambda _: True
    # For the first round: a configuration per value of the primary axis, the other axes filled in
    # by this rule (e.g. num_warps from the block size); None keeps the start's values.
    companion: Callable[[Mapping[str, int]], Mapping[str, int]] | None = None
    # Axes the first round spreads over together (square tiles: BLOCK_M = BLOCK_N = ...); default:
    # the first axis alone.
    primary: tuple[str, ...] = ()
    # Known-good points for this shape of code, tried first (before the spread) when valid and untried.
    seeds: tuple[Config, ...] = ()

    def make(self, values: Mapping[str, int]) -> Config:
        return tuple((a.name, values[a.name]) for a in self.axes)

    def ok(self, config: Config) -> bool:
        return self.valid(dict(config))


def initial(space: Space, count: int, tried: set[Config]) -> list[Config]:
    """A spread over the primary axes, evenly in index (extremes last), skipping the start's value."""
    names = space.primary or (space.axes[0].name,)
    axes = {a.name: a for a in space.axes}
    primary = axes[names[0]]
    start = dict(space.start)
    picks: list[Config] = [c for c in space.seeds if c not in tried and space.ok(c)][:count]
    if len(picks) >= count:
        return picks
    n = len(primary.values)
    if n > count + 2:
        inner = [i + 1 for i in _evenly(n - 2, count)]
    else:
        inner = sorted(range(n), key=lambda i: abs(i - 0.6 * (n - 1)))  # the larger middle first
    spread = [primary.values[i] for i in inner] + list(primary.values)
    for value in spread:
        values = dict(start)
        for name in names:
            if value in axes[name].values:
                values[name] = value
        if space.companion is not None:
            values.update(space.companion(values))
        # If that point was tried (an autotune config the person already has), its neighbours on the
        # other axes are the next best guesses at this size.
        options = [space.make(values), *neighbours(space, space.make(values), 2, tried, fixed=names)]
        config = next((c for c in options if c not in tried and c not in picks and space.ok(c)), None)
        if config is not None:
            picks.append(config)
        if len(picks) >= count:
            break
    if len(picks) < count:
        picks += neighbours(space, space.start, count - len(picks), tried | set(picks))
    return picks


def _evenly(n: int, k: int) -> list[int]:
    if k >= n:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)}) if k > 1 else [n - 1]


def neighbours(
    space: Space, centre: Config, count: int, tried: set[Config], fixed: tuple[str, ...] = ()
) -> list[Config]:
    """Configurations around `centre`: one step on one axis first, then two steps and pairs of axes.
    Axes named in `fixed` keep the centre's value."""
    here = dict(centre)
    found: list[Config] = []
    free = tuple(a for a in space.axes if a.name not in fixed)
    if not free:
        return found
    for radius in range(1, max(len(a.values) for a in free) + 1):
        moves: list[dict[str, int]] = []
        for axis in free:
            i = axis.index(here[axis.name])
            for j in (i - radius, i + radius):
                if 0 <= j < len(axis.values):
                    moves.append({axis.name: axis.values[j]})
        for a, b in itertools.combinations(free, 2):
            ia, ib = a.index(here[a.name]), b.index(here[b.name])
            for da, db in itertools.product((-radius, radius), repeat=2):
                if 0 <= ia + da < len(a.values) and 0 <= ib + db < len(b.values):
                    moves.append({a.name: a.values[ia + da], b.name: b.values[ib + db]})
        for move in moves:
            config = space.make({**here, **move})
            if config not in tried and config not in found and space.ok(config):
                found.append(config)
                if len(found) >= count:
                    return found
    return found


def next_configs(
    space: Space, count: int, results: Mapping[Config, float | None], tried: set[Config]
) -> list[Config]:
    """The next round: around the fastest measured configuration, or a spread if none was timed."""
    timed = {c: t for c, t in results.items() if t is not None}
    if not timed:
        return initial(space, count, tried)
    best = min(timed, key=lambda c: timed[c])
    return neighbours(space, best, count, tried)
