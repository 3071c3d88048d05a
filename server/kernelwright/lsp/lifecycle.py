"""Start-up and shut-down: what the client can do, settings, roots, the watcher, and a clean exit
(jobs cancelled, workers killed, stores closed)."""

from __future__ import annotations

import asyncio
import importlib

from lsprotocol import types

from kernelwright.lsp import configuration, watcher
from kernelwright.lsp.app import ClientSupport, KernelwrightServer
from kernelwright.lsp.roots import workspace_roots


def warm_up() -> None:
    """Import the modules that start-up defers (analysis with its grammars, the engine, the store)."""
    for module in ("kernelwright.analysis", "kernelwright.store", "kernelwright.lsp.optimize_run"):
        importlib.import_module(module)


def register(server: KernelwrightServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: KernelwrightServer, params: types.InitializeParams) -> None:
        ls.session.support = ClientSupport.of(params.capabilities)
        ls.session.stores.roots = workspace_roots(ls.workspace)
        ls.session.initial_settings = configuration.apply(ls, params.initialization_options)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: KernelwrightServer, params: types.InitializedParams) -> None:
        # Load what the first didOpen needs while the client is still busy starting up.
        warm = asyncio.get_running_loop().run_in_executor(None, warm_up)
        await configuration.pull(ls)
        watcher.start(ls)
        await warm

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(ls: KernelwrightServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        ls.session.stores.roots = workspace_roots(ls.workspace)
        watcher.start(ls)  # restarts on the new set of roots

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: KernelwrightServer, params: None) -> None:
        ls.session.jobs.cancel_all()
        ls.session.diagnostics_debounce.cancel_all()
        watcher.stop(ls)
        await ls.session.engine.close()
        ls.session.stores.close()
