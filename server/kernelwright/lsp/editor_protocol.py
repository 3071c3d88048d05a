"""The protocol class: pygls's, with what a server facing any editor needs on top.

- The position encoding is pinned to UTF-16. Analysis reports columns in UTF-16 code units (LSP's default
  and mandatory encoding). pygls would adopt a client's first preference (neovim offers UTF-8 first), and
  every column after a non-ASCII character would then be off; so the offer is narrowed to UTF-16 before
  pygls chooses.
- A message whose params do not fit its method is answered, for every method at once: pygls raises while
  reading it, before any handler runs, so a request was never answered (the editor waited for ever) and
  the error became a popup. Here a request gets an InvalidParams error that names the field, and a
  notification a line in the log.
- didChange for a document that is not open, or with a version not above the last one seen, is ignored
  with a log line (pygls raised KeyError, or applied an old change over a newer text).
- A message about a document waits for the work queued on that document (its analysis runs off the event
  loop, lanes.py); messages about other documents do not wait. A command naming an optimize result by id
  is about that result's document: Accept of a reviewed diff sees the edit sent just before it.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any, cast

import attrs
from cattrs import BaseValidationError, transform_error
from lsprotocol import types
from pygls.protocol import LanguageServerProtocol, lsp_method

if TYPE_CHECKING:
    from kernelwright.lsp.app import KernelwrightServer

# pygls applies these to its own copy of the text as they arrive; their analysis joins the document's lane.
_DOCUMENT_STATE = frozenset(
    {types.TEXT_DOCUMENT_DID_OPEN, types.TEXT_DOCUMENT_DID_CHANGE, types.TEXT_DOCUMENT_DID_CLOSE}
)


@attrs.define
class UnreadableMessage:
    """A request or notification whose params could not be read as its method's type."""

    id: object
    method: str
    reason: str


def _reason(exc: Exception) -> str:
    if isinstance(exc, BaseValidationError):
        return "; ".join(transform_error(exc, path="$"))
    return f"{type(exc).__name__}: {exc}"


def documents_named(message: object, result_uris: Mapping[str, str] | None = None) -> list[str]:
    """The document URIs a message is about: its textDocument, or a command's `{"uri": ...}` arguments,
    or (through `result_uris`, optimize result id -> its document) the document of a result a command
    names by id (`"id"` or `{"id": ...}`): Accept of a reviewed result must see an edit sent before it."""
    params = getattr(message, "params", None)
    uri = getattr(getattr(params, "text_document", None), "uri", None)
    if isinstance(uri, str):
        return [uri]
    if isinstance(params, types.ExecuteCommandParams):
        named: list[str] = []
        for arg in params.arguments or []:
            if isinstance(arg, dict) and isinstance(arg.get("uri"), str):
                named.append(arg["uri"])
            elif isinstance(arg, str) and arg.startswith("file:"):
                named.append(arg)
            result_id = arg.get("id") if isinstance(arg, dict) else arg
            if result_uris is not None and isinstance(result_id, str) and result_id in result_uris:
                named.append(result_uris[result_id])
        return named
    return []


class KernelwrightProtocol(LanguageServerProtocol):
    @property
    def _kw(self) -> KernelwrightServer:
        return cast("KernelwrightServer", self._server)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, types.InitializeResult]:
        general = params.capabilities.general
        if general is not None and general.position_encodings is not None:
            general.position_encodings = [types.PositionEncodingKind.Utf16]
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        return result

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        uri, version = params.text_document.uri, params.text_document.version
        known = self.workspace.text_documents.get(uri)
        if known is None:
            self._kw.log(f"didChange for {uri}, which is not open: ignored", types.MessageType.Warning)
            return
        if known.version is not None and version <= known.version:
            self._kw.log(
                f"didChange for {uri} at version {version}, not above the last one seen ({known.version}): "
                "ignored",
                types.MessageType.Warning,
            )
            return
        yield from super().lsp_text_document__did_change(params)

    def structure_message(self, data: dict[str, Any]) -> Any:
        method = data.get("method")
        if "jsonrpc" in data and isinstance(method, str) and "result" not in data and "error" not in data:
            kind = self.get_message_type(method)
            if kind is not None:
                try:
                    return self._converter.structure(data, kind)
                except Exception as exc:  # answered in handle_message, never raised into the reader loop
                    return UnreadableMessage(data.get("id"), method, _reason(exc))
        return super().structure_message(data)

    def handle_message(self, message: Any) -> None:
        if isinstance(message, UnreadableMessage):
            self._answer_unreadable(message)
            return
        method = getattr(message, "method", None)
        if method not in _DOCUMENT_STATE:
            results = {key: pending.uri for key, pending in self._kw.session.pending_results.items()}
            deferred = self._kw.session.lanes.after(
                documents_named(message, results),
                lambda: super(KernelwrightProtocol, self).handle_message(message),
            )
            if deferred:
                return
        super().handle_message(message)

    def _answer_unreadable(self, message: UnreadableMessage) -> None:
        text = f"invalid params for {message.method}: {message.reason}"
        msg_id = message.id
        if isinstance(msg_id, (str, int)) and not isinstance(msg_id, bool):
            self._kw.log(
                f"request {msg_id!r}: {text}; answered with InvalidParams", types.MessageType.Warning
            )
            error = types.ResponseError(code=types.ErrorCodes.InvalidParams, message=text)
            self._send_response(msg_id, error=error)
        else:
            self._kw.log(f"{text}: ignored", types.MessageType.Warning)
