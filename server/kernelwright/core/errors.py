"""Errors that cross layers. Each carries a message that names the cause and the fix."""

from __future__ import annotations


class KernelwrightError(Exception):
    """Base class: `str(err)` is a complete sentence for a person."""


class ExpressionError(KernelwrightError, ValueError):
    """A size expression in a directive that does not parse or cannot be evaluated."""


class UsageError(KernelwrightError):
    """The person asked for something that cannot be done as asked (bad path, unknown symbol, ...)."""


class SpecError(KernelwrightError):
    """A site cannot be benchmarked: it has no spec, or its spec is broken."""
