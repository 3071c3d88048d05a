"""The builtin provider: a search that needs no model and no network."""

from kernelwright.optimize.providers.builtin.provider import BuiltinProvider

__all__ = ["BuiltinProvider"]
