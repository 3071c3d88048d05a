"""The test editor: pytest-lsp's client plus what an editor keeps (versions, applied edits), and a
deadline-bound wait. Used by tests/lsp (through the `start_editor` fixture) and benchmarks/lsp.py."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Union

from lsprotocol import types
from pytest_lsp import LanguageClient

SERVER = [sys.executable, "-m", "kernelwright", "serve", "--stdio"]
DEADLINE = 20.0
# A request the server does not answer in this time fails the test naming the request, rather than
# hanging until pytest-timeout stops the whole test with no word on what it waited for.
ANSWER_DEADLINE = 60.0


async def wait_until(cond: Callable[[], Any], timeout: float = DEADLINE, what: str = "condition") -> Any:
    """Poll `cond` until it is truthy; fail the test with `what` after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        value = cond()
        if value:
            return value
        if loop.time() > end:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.02)


async def answered(request: Awaitable[Any], what: str) -> Any:
    try:
        return await asyncio.wait_for(request, ANSWER_DEADLINE)
    except TimeoutError:
        raise AssertionError(f"the server did not answer {what} within {ANSWER_DEADLINE:.0f} s") from None


class Editor:
    """A test client plus the bookkeeping an editor does: open documents, versions, applied edits."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        self.applied: list[types.ApplyWorkspaceEditParams] = []
        self.accept_edits = True
        self.lens_refreshes = 0
        self.init_result: types.InitializeResult | None = None
        self.inlay_refreshes = 0

    def uri(self, path: Path | str) -> str:
        return (self.root / path).resolve().as_uri() if not str(path).startswith("file:") else str(path)

    def open(self, name: str, text: str | None = None, language: str = "python") -> str:
        path = self.root / name
        if text is None:
            text = path.read_text()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        uri = path.resolve().as_uri()
        self.versions[uri] = 1
        self.texts[uri] = text
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
            )
        )
        return uri

    def edit(self, uri: str, rng: types.Range, new_text: str) -> int:
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[types.TextDocumentContentChangePartial(range=rng, text=new_text)],
            )
        )
        return self.versions[uri]

    def save(self, uri: str) -> None:
        self.client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    async def lenses(self, uri: str) -> list[types.CodeLens]:
        request = self.client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        return list(await answered(request, f"textDocument/codeLens for {uri}") or [])

    async def lens_titles(self, uri: str) -> list[str]:
        return [lens.command.title for lens in await self.lenses(uri) if lens.command is not None]

    async def hover(self, uri: str, line: int, character: int) -> str | None:
        request = self.client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=character),
            )
        )
        hover = await answered(request, f"textDocument/hover at {line}:{character}")
        if hover is None:
            return None
        contents = hover.contents
        assert isinstance(contents, types.MarkupContent)
        return contents.value

    async def command(self, command: str, *arguments: Any) -> Any:
        request = self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=list(arguments))
        )
        return await answered(request, f"the command {command}")

    def diagnostics(self, uri: str) -> list[types.Diagnostic]:
        return list(self.client.diagnostics.get(uri, []))

    def messages(self) -> list[str]:
        return [m.message for m in self.client.messages]


StartEditor = Callable[..., Awaitable[Editor]]


def fix_code_action_reading(client: LanguageClient) -> None:
    """lsprotocol 2025.0.0 reads every code action that has a `command` as a bare Command (its hook tests
    only for the key). A Command's `command` is a string, a CodeAction's an object: decide on that."""
    converter = client.protocol._converter

    def hook(obj: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(types.Command | types.CodeAction, hook)
    converter.register_structure_hook(Union[types.Command, types.CodeAction], hook)  # noqa: UP007


async def eventually(
    probe: Callable[[], Awaitable[Any]], timeout: float = DEADLINE, what: str = "result"
) -> Any:
    """Like wait_until, for a probe that asks the server (a request per try, 50 ms apart)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    last: Any = None
    while True:
        last = await probe()
        if last:
            return last
        if loop.time() > end:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last answer: {last!r}")
        await asyncio.sleep(0.05)


def scripted_model_settings(url: str, **extra: Any) -> dict[str, Any]:
    """initializationOptions for an optimize on the CPU whose candidates come from a scripted
    OpenAI-compatible server at `url` (support.scripted_servers): one round, one candidate."""
    return {
        "device": "cpu",
        "compileBaseline": False,
        "autoProfile": "off",
        "provider": "openai",
        "baseUrl": url + "/v1",
        "model": "scripted",
        "budgets": {"rounds": 1, "candidates": 1},
        **extra,
    }
