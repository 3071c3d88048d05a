"""Builds the language server: one module per LSP feature registers its own handlers."""

from __future__ import annotations

from kernelwright.lsp import (
    code_actions,
    commands,
    configuration,
    hover,
    inlay_hints,
    lenses,
    lifecycle,
    sync,
)
from kernelwright.lsp.app import KernelwrightServer

FEATURES = (lifecycle, configuration, sync, lenses, hover, inlay_hints, code_actions, commands)


def build_server() -> KernelwrightServer:
    server = KernelwrightServer()
    for feature in FEATURES:
        feature.register(server)
    return server
