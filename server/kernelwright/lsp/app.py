"""The server object: pygls's LanguageServer plus the session state every feature module reads.

The class only holds state and small helpers that several features share (publishing, refreshing); each
LSP feature registers its handlers in its own module (see `server.build_server`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from lsprotocol import types
from pygls.exceptions import FeatureRequestError, JsonRpcException, JsonRpcInternalError
from pygls.lsp.server import LanguageServer

from kernelwright import __version__
from kernelwright.core.settings import Settings
from kernelwright.core.site import Range
from kernelwright.lsp.debounce import Debouncer
from kernelwright.lsp.documents import Documents
from kernelwright.lsp.editor_protocol import KernelwrightProtocol
from kernelwright.lsp.engine_link import EngineLink
from kernelwright.lsp.lanes import DocumentLanes
from kernelwright.lsp.persistence import Stores
from kernelwright.lsp.results import Results, SiteKey
from kernelwright.lsp.site_jobs import Jobs

if TYPE_CHECKING:
    from pygls.server import ServerErrors

log = logging.getLogger("kernelwright.lsp")

# Said once a session, however many messages the editor sends that cannot be read.
UNREADABLE_TOLD = (
    "kernelwright: the editor sent a message that is not valid JSON-RPC; it was ignored "
    "(each one is in the kernelwright log)"
)


class _NoTracebackForUnreadable(logging.Filter):
    """pygls logs a frame that is not JSON with a full traceback before it reports it; report_server_error
    below logs it in one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], json.JSONDecodeError))


logging.getLogger("pygls.server").addFilter(_NoTracebackForUnreadable())


@dataclass
class ClientSupport:
    """What the client said it can do, read once at initialize."""

    code_lens_refresh: bool = False
    inlay_hint_refresh: bool = False
    work_done_progress: bool = False
    change_annotations: bool = False
    configuration: bool = False
    # kernelwright's own client (vscode-client) says, under capabilities.experimental.kernelwright, that it
    # shows an optimize result as a diff with Accept / Reject (kernelwright/resultReady) and a site's history
    # in a view of its own, instead of the server's edit-with-confirmation and message.
    review_results: bool = False
    history_view: bool = False

    @staticmethod
    def of(caps: types.ClientCapabilities) -> ClientSupport:
        ws = caps.workspace
        edit = ws.workspace_edit if ws is not None else None
        ours = caps.experimental.get("kernelwright") if isinstance(caps.experimental, dict) else None
        ours = ours if isinstance(ours, dict) else {}
        return ClientSupport(
            code_lens_refresh=bool(ws and ws.code_lens and ws.code_lens.refresh_support),
            inlay_hint_refresh=bool(ws and ws.inlay_hint and ws.inlay_hint.refresh_support),
            work_done_progress=bool(caps.window and caps.window.work_done_progress),
            change_annotations=bool(edit and edit.change_annotation_support),
            configuration=bool(ws and ws.configuration),
            review_results=ours.get("reviewResults") is True,
            history_view=ours.get("historyView") is True,
        )


class Stoppable(Protocol):
    def stop(self) -> None: ...


@dataclass(frozen=True)
class PendingResult:
    """The best verified candidate of an optimize run, kept until it is applied or dropped."""

    id: str
    key: SiteKey
    uri: str
    original_hash: str  # sha256 of the whole file when optimize started
    range: Range  # what the edit replaces, in that text
    old_text: str  # that text: the edit goes only where it still stands
    new_text: str
    summary: str  # "2.1x faster (183 µs -> 87 µs on H100)"
    # The figures of the summary, for a client that words them itself (the diff's title).
    speedup: float | None = None
    baseline_us: float | None = None
    best_us: float | None = None
    device: str = ""
    roofline_fraction: float | None = None


@dataclass
class Session:
    settings: Settings = field(default_factory=Settings)
    initial_settings: Settings = field(default_factory=Settings)  # from initializationOptions
    told: set[str] = field(default_factory=set)  # messages already shown, so a re-pull does not repeat them
    documents: Documents = field(default_factory=Documents)
    results: Results = field(default_factory=Results)
    support: ClientSupport = field(default_factory=ClientSupport)
    diagnostics_debounce: Debouncer = field(default_factory=lambda: Debouncer(0.3))
    jobs: Jobs = field(default_factory=Jobs)
    lanes: DocumentLanes = field(default_factory=DocumentLanes)
    engine: EngineLink = field(default_factory=EngineLink)
    stores: Stores = field(default_factory=Stores)
    watcher: Stoppable | None = None
    profile_debounce: Debouncer = field(default_factory=lambda: Debouncer(0.3))
    progress_tokens: dict[str, SiteKey] = field(default_factory=dict)
    # Optimize results whose edit could not be applied, offered again by kernelwright.applyResult.
    pending_results: dict[str, PendingResult] = field(default_factory=dict)


class KernelwrightServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "kernelwright",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=KernelwrightProtocol,
        )
        self.session = Session()
        # Lenses show what runs ("profiling…"); they refresh when a job starts or ends.
        self.session.jobs = Jobs(on_change=self.refresh_views, on_error=self._job_error)
        self.session.lanes.on_error = self._lane_error
        self.session.engine.on_unconfined = self.tell

    def log(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        """A line in the client's output panel, and in the server's own log."""
        log.log(logging.WARNING if kind <= types.MessageType.Warning else logging.INFO, message)
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def tell(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        """A message the person sees (window/showMessage)."""
        self.log(message, kind)
        if message in self.session.told:
            return
        self.session.told.add(message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def _job_error(self, message: str) -> None:
        self.tell(message, types.MessageType.Error)

    def _lane_error(self, what: str, exc: BaseException) -> None:
        self.tell(f"kernelwright: {what} failed: {exc}", types.MessageType.Error)

    def report_server_error(self, error: Exception, source: ServerErrors) -> None:
        """What pygls could not handle outside a request (a request's error goes in its response).

        pygls's default shows each one as a popup: a client that sends bad frames, or a notification
        handler that fails on every keystroke, would raise one popup per message. Here each is a line in
        the log, and the person is told once per distinct problem."""
        if source is FeatureRequestError:
            return
        if source is JsonRpcInternalError:  # sending failed: telling the client would send again
            log.error("could not send a message to the editor: %s", error)
            return
        if source is JsonRpcException:  # the reader loop: the frame was not JSON-RPC at all
            self.log(
                f"ignored a message from the editor that could not be read: {error}",
                types.MessageType.Warning,
            )
            if UNREADABLE_TOLD not in self.session.told:
                self.tell(UNREADABLE_TOLD)
            return
        self.tell(f"kernelwright: internal error ({source.__name__}): {error}", types.MessageType.Error)

    def refresh_views(self) -> None:
        """Ask the client to pull lenses and inlay hints again, where it supports being asked."""
        if self.session.support.code_lens_refresh:
            self.workspace_code_lens_refresh(None)
        if self.session.support.inlay_hint_refresh:
            self.workspace_inlay_hint_refresh(None)
