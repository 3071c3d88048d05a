"""What a failed job raises on the parent side: the code, the message and what the job printed."""

from __future__ import annotations

from kernelwright.core.errors import KernelwrightError
from kernelwright.core.protocol import CapturedOutput, ErrorCode, JobErrorInfo

OUTPUT_LINES_IN_MESSAGE = 12


class JobError(KernelwrightError):
    """A job produced no result. `code` says why; `str()` adds the last lines the job printed."""

    def __init__(self, info: JobErrorInfo, output: CapturedOutput | None = None, device: str = "") -> None:
        self.info = info
        self.output = output or CapturedOutput()
        self.device = device
        super().__init__(self._text())

    @property
    def code(self) -> ErrorCode:
        return self.info.code

    @property
    def message(self) -> str:
        return self.info.message

    def _text(self) -> str:
        where = f" on {self.device}" if self.device else ""
        text = f"{self.info.code}{where}: {self.info.message}"
        tail = self.output.last_lines(OUTPUT_LINES_IN_MESSAGE)
        if tail.strip():
            text += "\nlast output:\n" + tail
        return text
