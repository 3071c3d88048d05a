"""End-to-end LSP tests: pytest-lsp's client drives the real server process (`python -m kernelwright
serve --stdio`). `start_editor` starts one per call with a tmp_path workspace, answers
workspace/applyEdit like an editor would, and shuts every server down at the end of the test.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from lsp.editor_support import DEADLINE, SERVER, Editor, StartEditor, fix_code_action_reading
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities


def vscode_capabilities() -> types.ClientCapabilities:
    """pytest-lsp's VS Code set predates inlay hint refresh, which VS Code has supported since 1.67."""
    caps = client_capabilities("visual-studio-code")
    assert caps.workspace is not None
    caps.workspace.inlay_hint = types.InlayHintWorkspaceClientCapabilities(refresh_support=True)
    return caps


@pytest_asyncio.fixture
async def start_editor(tmp_path: Path) -> AsyncIterator[StartEditor]:
    """Start a server; keyword arguments: init_options, configuration, capabilities, roots, env."""
    editors: list[Editor] = []

    async def start(
        init_options: Any = None,
        configuration: dict[str, Any] | None = None,
        capabilities: types.ClientCapabilities | None = None,
        roots: list[Path] | None = None,
        env: dict[str, str] | None = None,
    ) -> Editor:
        server_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        client = await ClientServerConfig(server_command=SERVER, server_env=server_env).start()
        assert isinstance(client, LanguageClient)
        fix_code_action_reading(client)
        editor = Editor(client, tmp_path)
        editors.append(editor)
        if configuration is not None:
            client.set_configuration(configuration)

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            editor.applied.append(params)
            if not editor.accept_edits:
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="declined by the test")
            return types.ApplyWorkspaceEditResult(applied=True)

        @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
        def lens_refresh(params: None) -> None:
            editor.lens_refreshes += 1

        @client.feature(types.WORKSPACE_INLAY_HINT_REFRESH)
        def inlay_refresh(params: None) -> None:
            editor.inlay_refreshes += 1

        folders = [
            types.WorkspaceFolder(uri=r.resolve().as_uri(), name=r.name) for r in (roots or [tmp_path])
        ]
        editor.init_result = await asyncio.wait_for(
            client.initialize_session(
                types.InitializeParams(
                    capabilities=capabilities or vscode_capabilities(),
                    workspace_folders=folders,
                    root_uri=folders[0].uri,
                    initialization_options=init_options,
                )
            ),
            DEADLINE,
        )
        return editor

    yield start
    for editor in editors:
        try:
            await asyncio.wait_for(editor.client.shutdown_session(), DEADLINE)
        finally:
            await editor.client.stop()
