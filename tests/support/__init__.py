"""Helpers shared by the test suites (scripted model servers, LSP fixtures, sample loaders)."""
