"""`report_stopped`: the one answer bench, verify and calibrate give when engine work ends early."""

from __future__ import annotations

import io
import json

import pytest
from kernelwright.cli.common import EXIT_INTERRUPTED, report_stopped
from kernelwright.cli.output import EXIT_FAILED, EXIT_USAGE, Output
from kernelwright.core.errors import UsageError
from kernelwright.core.protocol import ErrorCode, JobErrorInfo
from kernelwright.engine.job_error import JobError


def _report(exc: UsageError | JobError | KeyboardInterrupt) -> tuple[int, dict[str, str]]:
    stream = io.StringIO()
    code = report_stopped(Output(json_mode=True, stream=stream, err=io.StringIO()), exc)
    doc = json.loads(stream.getvalue())
    return code, doc["error"]


def test_ctrl_c_says_the_worker_was_stopped() -> None:
    code, error = _report(KeyboardInterrupt())
    assert code == EXIT_INTERRUPTED == 130
    assert error == {"code": "interrupted", "message": "interrupted: the worker was stopped"}


@pytest.mark.parametrize(
    ("exc", "exit_code", "error_code"),
    [
        (UsageError("no such device cuda:7"), EXIT_USAGE, "usage"),
        (JobError(JobErrorInfo(ErrorCode.START_FAILED, "torch missing")), EXIT_USAGE, "start_failed"),
        (JobError(JobErrorInfo(ErrorCode.TIMEOUT, "no answer in 5 s")), EXIT_FAILED, "timeout"),
    ],
)
def test_engine_errors_keep_their_exit_codes(
    exc: UsageError | JobError, exit_code: int, error_code: str
) -> None:
    code, error = _report(exc)
    assert code == exit_code
    assert error["code"] == error_code
    assert str(exc) == error["message"]


def test_people_see_a_plain_message_on_stderr() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert report_stopped(Output(json_mode=False, stream=out, err=err), KeyboardInterrupt()) == 130
    assert out.getvalue() == ""
    assert err.getvalue() == "error: interrupted: the worker was stopped\n"
