"""Providers of candidates behind one protocol: the builtin search, Claude, and OpenAI-compatible servers."""
