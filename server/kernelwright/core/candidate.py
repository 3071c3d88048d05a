"""What the optimize loop passes around: candidates, model usage, and the edit a winning candidate becomes.

Frozen values that serialise through `core.jsonable`, so the store keeps them and the LSP sends them.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernelwright.core.measure import content_key
from kernelwright.core.settings import ProviderName
from kernelwright.core.site import Range


@dataclass(frozen=True)
class Candidate:
    """One proposed replacement: a full candidate module text that defines `symbol`.

    `source` is what a worker loads next to the reference; for the module convention it defines
    `ModelNew`, for the function convention a function of the site's name, for CUDA the kernel.
    """

    id: str
    source: str
    symbol: str
    provider: ProviderName
    round: int
    rationale: str = ""
    # True for the unchanged original, kept in every search as the baseline (docs/PITFALLS.md 18).
    is_baseline: bool = False
    # The whole file as it would read with this candidate applied, when the provider rewrote the file
    # in place (the builtin search does); None when the edit must be derived from `source`.
    file_text: str | None = None

    @property
    def source_hash(self) -> str:
        return content_key(self.source)


@dataclass(frozen=True)
class Usage:
    """Tokens and money a model provider spent; zero for the builtin search."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    requests: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
            requests=self.requests + other.requests,
        )

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens


@dataclass(frozen=True)
class TextEdit:
    """A replacement of `range` in the file at `path` by `new_text`: what the LSP sends as-is.

    `original_hash` is the sha256 of the whole file the edit was computed against, so a caller can
    refuse to apply it to a file that changed since.
    """

    path: str
    range: Range
    new_text: str
    original_hash: str
