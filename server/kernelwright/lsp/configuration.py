"""Settings handling: initializationOptions at initialize, then workspace/configuration (section
`kernelwright`) once initialized and again on every workspace/didChangeConfiguration.

A malformed object never stops the server: each bad key is named in a window/showMessage together with
the default used, and the rest of the object applies.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from kernelwright.core.settings import ParsedSettings, Settings, parse_settings
from kernelwright.lsp.app import KernelwrightServer

SECTION = "kernelwright"


def apply(ls: KernelwrightServer, raw: object, base: Settings | None = None) -> Settings:
    parsed: ParsedSettings = parse_settings(raw, base if base is not None else Settings())
    for problem in parsed.problems:
        ls.tell(str(problem), types.MessageType.Warning)
    before = ls.session.settings
    ls.session.settings = parsed.settings
    ls.session.diagnostics_debounce.delay_s = parsed.settings.debounce_ms / 1000
    ls.session.profile_debounce.delay_s = parsed.settings.debounce_ms / 1000
    if before != parsed.settings:
        ls.log(f"settings: {parsed.settings}")
    return parsed.settings


async def pull(ls: KernelwrightServer) -> None:
    """Ask the client for the `kernelwright` section, if it answers workspace/configuration."""
    if not ls.session.support.configuration:
        return
    try:
        answer = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
        )
    except Exception as exc:  # a client that fails the request keeps what it sent at initialize
        ls.log(f"workspace/configuration failed ({exc}); keeping the current settings")
        return
    if answer and answer[0] is not None:
        # Pulled settings start from the initializationOptions, so a partial section does not reset them.
        apply(ls, answer[0], ls.session.initial_settings)


async def did_change(ls: KernelwrightServer, params: types.DidChangeConfigurationParams) -> None:
    """Pull again where the client answers workspace/configuration; else read what it pushed."""
    pushed: Any = params.settings
    if ls.session.support.configuration:
        await pull(ls)
    elif isinstance(pushed, dict) and SECTION in pushed:
        apply(ls, pushed[SECTION], ls.session.initial_settings)
    elif isinstance(pushed, dict) and pushed:
        apply(ls, pushed, ls.session.initial_settings)


def register(server: KernelwrightServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: KernelwrightServer, params: types.DidChangeConfigurationParams
    ) -> None:
        await did_change(ls, params)
