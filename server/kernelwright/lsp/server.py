"""Builds the language server: one module per LSP feature registers its own handlers."""

from __future__ import annotations

from kernelwright.lsp import (
    code_actions,
    configuration,
    hover,
    inlay_hints,
    lenses,
    lifecycle,
    sync,
    work_done,
)
from kernelwright.lsp import commands as command_handlers
from kernelwright.lsp.app import KernelwrightServer

FEATURES = (
    lifecycle,
    configuration,
    sync,
    lenses,
    hover,
    inlay_hints,
    code_actions,
    command_handlers,
    work_done,
)


def build_server() -> KernelwrightServer:
    server = KernelwrightServer()
    for feature in FEATURES:
        feature.register(server)
    return server
