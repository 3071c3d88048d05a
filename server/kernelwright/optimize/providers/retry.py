"""Retries with exponential backoff for model requests: 429, 5xx and overloaded errors, respecting
the server's retry-after. The SDKs' own retries are switched off so that every retry is counted and
reported the same way for every provider."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    jitter: float = 0.25  # +- this fraction of the delay, so parallel requests do not retry in step


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    reason: str  # e.g. "429 rate limited", "529 overloaded"
    retry_after_s: float | None = None  # the server's own hint, which wins over backoff


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a retry-after (or retry-after-ms) header value; None when absent or unreadable."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds)


async def with_retries(
    call: Callable[[], Awaitable[T]],
    classify: Callable[[BaseException], RetryDecision],
    policy: RetryPolicy,
    notes: list[str],
) -> T:
    """Run `call` until it succeeds or `classify` says the error is final or attempts run out."""
    attempt = 1
    while True:
        try:
            return await call()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            decision = classify(exc)
            if not decision.retry or attempt >= policy.max_attempts:
                if decision.retry:
                    notes.append(f"gave up after {attempt} attempts: {decision.reason}")
                raise
            if decision.retry_after_s is not None:
                delay = min(decision.retry_after_s, policy.max_delay_s)
            else:
                delay = min(policy.base_delay_s * 2 ** (attempt - 1), policy.max_delay_s)
                delay *= 1 + random.uniform(-policy.jitter, policy.jitter)
            notes.append(f"attempt {attempt}: {decision.reason}; retrying in {delay:.2f} s")
            await asyncio.sleep(delay)
            attempt += 1
