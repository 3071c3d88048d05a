"""$/progress for long work (optimize): begin, report, end, and cancellation from the client.

window/workDoneProgress/cancel on a token cancels the job it belongs to, which cancels the engine jobs
it awaits, which kills their workers.
"""

from __future__ import annotations

import uuid

from lsprotocol import types

from kernelwright.lsp.app import KernelwrightServer
from kernelwright.lsp.results import SiteKey


class ProgressReporter:
    """Reports one job's progress; silent when the client does not support work done progress."""

    def __init__(self, ls: KernelwrightServer, key: SiteKey, title: str) -> None:
        self._ls = ls
        self._key = key
        self.title = title
        self.token: str | None = None

    async def begin(self, message: str) -> None:
        if not self._ls.session.support.work_done_progress:
            return
        token = f"kernelwright/{uuid.uuid4().hex}"
        try:
            await self._ls.work_done_progress.create_async(token)
        except Exception as exc:  # a client that refuses the token gets no progress, the job still runs
            self._ls.log(f"progress not shown: {exc}")
            return
        self.token = token
        self._ls.session.progress_tokens[token] = self._key
        self._ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(title=self.title, message=message, cancellable=True, percentage=0),
        )

    def report(self, message: str, percentage: int | None = None) -> None:
        if self.token is not None:
            self._ls.work_done_progress.report(
                self.token,
                types.WorkDoneProgressReport(message=message, percentage=percentage, cancellable=True),
            )

    def end(self, message: str) -> None:
        if self.token is not None:
            self._ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self._ls.session.progress_tokens.pop(self.token, None)
            self.token = None


def register(server: KernelwrightServer) -> None:
    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def cancel(ls: KernelwrightServer, params: types.WorkDoneProgressCancelParams) -> None:
        key = ls.session.progress_tokens.get(str(params.token))
        if key is not None and ls.session.jobs.cancel(key):
            ls.log(f"cancelled by the client: {key.name}")
