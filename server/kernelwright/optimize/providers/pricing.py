"""Prices per million tokens, for cost accounting and the money budget. Cache writes cost more than
plain input and cache reads much less (Anthropic's published multipliers: 1.25x and 0.1x for the
5-minute cache). Unknown models cost 0 with a note, so a money budget cannot be trusted for them."""

from __future__ import annotations

from dataclasses import dataclass

from kernelwright.core.candidate import Usage


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float
    cache_write_per_mtok: float
    cache_read_per_mtok: float


def _anthropic(input_usd: float, output_usd: float, cache_read_usd: float | None = None) -> Price:
    read = input_usd * 0.1 if cache_read_usd is None else cache_read_usd
    return Price(input_usd, output_usd, input_usd * 1.25, read)


# Anthropic's published prices (platform.claude.com/docs/en/about-claude/pricing, read 2026-11).
# Longest matching prefix wins, so dated model ids ("claude-sonnet-4-5-20250929") find their family.
PRICES: dict[str, Price] = {
    "claude-fable-5-1": _anthropic(10.0, 50.0, 0.25),
    "claude-mythos-5-1": _anthropic(10.0, 50.0, 0.25),
    "claude-fable-5": _anthropic(10.0, 50.0),
    "claude-mythos-5": _anthropic(10.0, 50.0),
    "claude-opus-5-5": _anthropic(4.0, 20.0, 0.20),
    "claude-opus-5": _anthropic(5.0, 25.0),
    "claude-opus-4-8": _anthropic(5.0, 25.0),
    "claude-opus-4-7": _anthropic(5.0, 25.0),
    "claude-opus-4-6": _anthropic(5.0, 25.0),
    "claude-opus-4-5": _anthropic(5.0, 25.0),
    "claude-opus-4-1": _anthropic(15.0, 75.0),
    "claude-opus-4": _anthropic(15.0, 75.0),
    "claude-sonnet-5-5": _anthropic(2.0, 10.0, 0.20),
    "claude-sonnet-5": _anthropic(2.0, 10.0, 0.20),
    "claude-sonnet-4": _anthropic(3.0, 15.0),
    "claude-haiku-4-5": _anthropic(1.0, 5.0),
    "claude-3-5-haiku": _anthropic(0.8, 4.0),
}


def price_of(model: str) -> Price | None:
    best: str | None = None
    for prefix in PRICES:
        if model.startswith(prefix) and (best is None or len(prefix) > len(best)):
            best = prefix
    return PRICES[best] if best is not None else None


def priced(model: str, input_tokens: int, output_tokens: int, cache_write: int, cache_read: int) -> Usage:
    price = price_of(model)
    cost = 0.0
    if price is not None:
        cost = (
            input_tokens * price.input_per_mtok
            + output_tokens * price.output_per_mtok
            + cache_write * price.cache_write_per_mtok
            + cache_read * price.cache_read_per_mtok
        ) / 1e6
    return Usage(input_tokens, output_tokens, cache_read, cache_write, cost, requests=1)
