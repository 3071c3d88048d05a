"""What the server knows about each site's runs: the last measurement, the one before, failures.

Lenses, hovers, diagnostics and inlay hints all read from here; profile jobs, the store (on start-up)
and optimize runs write to it. Keyed by file path and site name, because that is what survives edits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from kernelwright.core.measure import Measurement, TimingMethod
from kernelwright.lsp.documents import CodeHashes

# A site is "far from its roofline" below this fraction: worth a hint that there is room to optimize.
ROOFLINE_HINT_BELOW = 0.3
# Slower than the previous measurement by this much, and outside its p90, counts as a regression.
REGRESSION_RATIO = 1.10


@dataclass(frozen=True)
class SiteKey:
    path: Path
    name: str


@dataclass(frozen=True)
class RunFailure:
    """A profile that produced no measurement: where it stopped and why (cause and fix)."""

    stage: str
    message: str
    line: int | None = None  # 0-based line in the file, where known


@dataclass(frozen=True)
class SiteRecord:
    measurement: Measurement | None = None
    previous: Measurement | None = None  # the measurement before, on the same device: for regressions
    site_hash: str | None = None  # hash of the site's text when `measurement` was taken
    # The whole file as it was when the site last ran well: the reference when the site's code changes.
    verified_source: str | None = None
    failure: RunFailure | None = None  # the latest profile failed (cleared by the next success)
    mismatch: str | None = None  # the current code does not match `verified_source`'s behaviour

    def recheck_against(self, site_hash: str) -> str | None:
        """The source to verify the site's code against before profiling it: the last version that ran
        well, when the site's text changed since (or it did not match it last time); else None."""
        changed = self.mismatch is not None or self.site_hash not in (None, site_hash)
        return self.verified_source if changed else None

    def stale(self, now: CodeHashes) -> bool:
        """True when the code changed since the measurement (compared by hash, never by time)."""
        if self.measurement is None:
            return False
        if self.site_hash is not None:
            return self.site_hash != now.site
        return not now.matches(self.measurement.source_hash)


def same_setup(a: Measurement, b: Measurement) -> bool:
    """Measured on the same card with the same torch, Triton and CUDA (docs/PITFALLS.md 21): only then
    is one a baseline for the other. A torch upgrade changes kernels as much as an edit does."""
    va, vb = a.versions, b.versions
    return a.device.name == b.device.name and (va.torch, va.triton, va.cuda) == (vb.torch, vb.triton, vb.cuda)


def regression(previous: Measurement, current: Measurement) -> float | None:
    """current/previous when the site got slower beyond noise on the same setup; None otherwise."""
    if not same_setup(previous, current):
        return None
    p, c = previous.timing, current.timing
    if TimingMethod.NOT_TIMED in (p.method, c.method) or p.median_us <= 0:
        return None
    ratio = c.median_us / p.median_us
    if ratio >= REGRESSION_RATIO and c.median_us > p.p90_us and c.p10_us > p.median_us:
        return ratio
    return None


def comparable(latest: Measurement, *earlier: Measurement | None) -> Measurement | None:
    """The first earlier measurement a regression may be judged against: one from the same device and
    software stack (a different card's number, or one from before a torch upgrade, is no baseline)."""
    return next((m for m in earlier if m is not None and same_setup(m, latest)), None)


class Results:
    def __init__(self) -> None:
        self._records: dict[SiteKey, SiteRecord] = {}

    def get(self, key: SiteKey) -> SiteRecord:
        return self._records.get(key, SiteRecord())

    def known(self, key: SiteKey) -> bool:
        return key in self._records

    def put(self, key: SiteKey, record: SiteRecord) -> None:
        self._records[key] = record

    def measured_paths(self) -> set[Path]:
        return {k.path for k, r in self._records.items() if r.measurement is not None}

    def record_measurement(
        self, key: SiteKey, m: Measurement, site_hash: str, source: str, mismatch: str | None = None
    ) -> SiteRecord:
        """A new measurement. While the code does not match its last verified version (`mismatch`), that
        version stays the reference; otherwise the measured source becomes it."""
        old = self.get(key)
        record = SiteRecord(
            measurement=m,
            previous=comparable(m, old.measurement, old.previous),
            site_hash=site_hash,
            verified_source=source if mismatch is None else old.verified_source,
            failure=None,
            mismatch=mismatch,
        )
        self._records[key] = record
        return record

    def record_failure(self, key: SiteKey, failure: RunFailure) -> None:
        self._records[key] = replace(self.get(key), failure=failure)

    def clear(self, path: Path | None = None) -> int:
        keys = [k for k in self._records if path is None or k.path == path]
        for k in keys:
            del self._records[k]
        return len(keys)
