from __future__ import annotations

import json

import pytest
from kernelwright.core.protocol import (
    PROTOCOL_VERSION,
    CapturedOutput,
    ErrorCode,
    Hello,
    JobErrorInfo,
    ProtocolError,
    Request,
    Response,
    decode,
    encode,
)


@pytest.mark.parametrize(
    "message",
    [
        Hello(v=PROTOCOL_VERSION, pid=42, device="cuda:1", info={"versions": {"torch": "2.13"}}),
        Request(v=PROTOCOL_VERSION, id=7, type="verify", payload={"a": [1, 2.5, None, "x\ny"]}),
        Response(v=PROTOCOL_VERSION, id=7, ok=True, result={"median_us": 12.5}),
        Response(
            v=PROTOCOL_VERSION,
            id=8,
            ok=False,
            error=JobErrorInfo(ErrorCode.CUDA_FAULT, "illegal memory access", "Traceback ..."),
            output=CapturedOutput("last words\n", 11),
            retire=True,
        ),
    ],
)
def test_messages_round_trip_as_one_line(message: Hello | Request | Response) -> None:
    line = encode(message)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode(line) == message


def test_a_message_of_another_version_is_refused_with_a_reason() -> None:
    line = json.dumps({"kind": "hello", "v": PROTOCOL_VERSION + 1, "pid": 1, "device": "cpu", "info": None})
    with pytest.raises(ProtocolError, match="same installation"):
        decode(line.encode())


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"hello world\n", "not JSON"),
        (b"[1, 2]\n", "JSON object"),
        (json.dumps({"v": PROTOCOL_VERSION, "kind": "shout"}).encode(), "unknown message kind"),
        (json.dumps({"v": PROTOCOL_VERSION, "kind": "request", "id": 1}).encode(), "malformed Request"),
        (
            json.dumps(
                {
                    "v": PROTOCOL_VERSION,
                    "kind": "response",
                    "id": 1,
                    "ok": False,
                    "error": {"code": "boom", "message": "m"},
                }
            ).encode(),
            "malformed Response",
        ),
    ],
)
def test_garbage_is_a_protocol_error_not_a_traceback(line: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        decode(line)


def test_captured_output_knows_when_it_was_cut() -> None:
    assert CapturedOutput("abc", 3).truncated is False
    assert CapturedOutput("abc", 3000).truncated is True
    assert CapturedOutput("a\nb\nc\n", 6).last_lines(2) == "b\nc"


def test_a_job_payload_survives_the_wire_with_its_enums() -> None:
    """The harness checks `spec.convention is Convention.MODULE`: that must hold after JSON."""
    from kernelwright.core.jobs import CandidateRef, ProblemRef, VerifyJob
    from kernelwright.core.jsonable import from_json, to_json
    from kernelwright.core.site import Convention, ModuleSpec, SiteKind

    job = VerifyJob(
        ProblemRef("/p.py", "src", "Model", SiteKind.TORCH_MODULE, ModuleSpec()), CandidateRef("/c.py", "c")
    )
    sent = decode(encode(Request(v=PROTOCOL_VERSION, id=1, type="verify", payload=to_json(job))))
    assert isinstance(sent, Request)
    back = from_json(VerifyJob, sent.payload)
    assert back == job and back.reference.spec.convention is Convention.MODULE
