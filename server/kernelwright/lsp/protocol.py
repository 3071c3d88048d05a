"""The protocol class: pygls's, with the position encoding pinned to UTF-16.

Analysis reports columns in UTF-16 code units (LSP's default and mandatory encoding). pygls would adopt
a client's first preference (neovim offers UTF-8 first), and every column after a non-ASCII character
would then be off; so the offer is narrowed to UTF-16 before pygls chooses.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from lsprotocol import types
from pygls.protocol import LanguageServerProtocol, lsp_method


class KernelwrightProtocol(LanguageServerProtocol):
    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, types.InitializeResult]:
        general = params.capabilities.general
        if general is not None and general.position_encodings is not None:
            general.position_encodings = [types.PositionEncodingKind.Utf16]
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        return result
