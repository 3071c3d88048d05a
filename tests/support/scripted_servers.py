"""Local HTTP servers that speak the Anthropic Messages API and the OpenAI chat completions API, with
scripted replies, so the providers run for real through their SDKs (anthropic 2.14 uses httpx2, which
mocking libraries do not intercept).

Each server listens on 127.0.0.1 on a free port, answers requests in order from its script, and records
what it received (path, headers, JSON body) for the test to assert on. A scripted reply is test input:
it is never presented as a model's result.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Scripted:
    """One scripted answer. status 200 with `text` is a success; other statuses send `error_type`."""

    text: str = ""
    status: int = 200
    error_type: str = ""  # overloaded_error, rate_limit_error, authentication_error, ...
    error_message: str = "scripted error"
    headers: dict[str, str] = field(default_factory=dict)
    # A 200 whose event stream breaks off with an `error` event (Anthropic sends overloaded_error so).
    error_mid_stream: bool = False
    input_tokens: int = 1200
    output_tokens: int = 300
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    stop_reason: str = "end_turn"
    chunk_chars: int = 40  # text per streamed delta


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def _chunks(text: str, size: int) -> Iterator[str]:
    for i in range(0, len(text), max(1, size)):
        yield text[i : i + size]


class ScriptedServer:
    """Base: a threaded server answering from `script` in order; subclasses speak one API."""

    def __init__(self, script: list[Scripted]) -> None:
        self.script = list(script)
        self.received: list[Received] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet test output
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except json.JSONDecodeError:
                    body = {"_unparsed": raw.decode(errors="replace")}
                with outer._lock:
                    outer.received.append(
                        Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    step = outer.script.pop(0) if outer.script else None
                if step is None:
                    outer._send_json(
                        self, 500, {"error": {"type": "api_error", "message": "script exhausted"}}
                    )
                    return
                outer.answer(self, step, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def answer(self, handler: BaseHTTPRequestHandler, step: Scripted, body: dict[str, Any]) -> None:
        raise NotImplementedError

    @staticmethod
    def _send_json(
        handler: BaseHTTPRequestHandler, status: int, payload: object, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.send_header("connection", "close")
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()

    @staticmethod
    def _start_stream(handler: BaseHTTPRequestHandler, headers: dict[str, str]) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("cache-control", "no-cache")
        handler.send_header("connection", "close")
        for k, v in headers.items():
            handler.send_header(k, v)
        handler.end_headers()


class AnthropicServer(ScriptedServer):
    """POST /v1/messages, streaming (SSE) and not."""

    def answer(self, handler: BaseHTTPRequestHandler, step: Scripted, body: dict[str, Any]) -> None:
        if handler.path.split("?")[0] != "/v1/messages":
            self._send_json(
                handler, 404, {"type": "error", "error": {"type": "not_found_error", "message": handler.path}}
            )
            return
        if step.status != 200:
            error = {
                "type": "error",
                "error": {"type": step.error_type or "api_error", "message": step.error_message},
            }
            self._send_json(handler, step.status, error, step.headers)
            return
        model = str(body.get("model", ""))
        usage = {
            "input_tokens": step.input_tokens,
            "output_tokens": 1,
            "cache_creation_input_tokens": step.cache_write_tokens,
            "cache_read_input_tokens": step.cache_read_tokens,
        }
        if not body.get("stream"):
            message = {
                "id": "msg_scripted",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": step.text}],
                "stop_reason": step.stop_reason,
                "stop_sequence": None,
                "usage": {**usage, "output_tokens": step.output_tokens},
            }
            self._send_json(handler, 200, message, step.headers)
            return
        self._start_stream(handler, step.headers)

        def event(name: str, data: dict[str, Any]) -> None:
            handler.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            handler.wfile.flush()

        start = {
            "id": "msg_scripted",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        event("message_start", {"type": "message_start", "message": start})
        event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        )
        event("ping", {"type": "ping"})
        pieces = list(_chunks(step.text, step.chunk_chars))
        for n, piece in enumerate(pieces):
            if step.error_mid_stream and n == len(pieces) // 2:
                event(
                    "error",
                    {
                        "type": "error",
                        "error": {
                            "type": step.error_type or "overloaded_error",
                            "message": step.error_message,
                        },
                    },
                )
                return
            event(
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
            )
        event("content_block_stop", {"type": "content_block_stop", "index": 0})
        event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": step.stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": step.output_tokens},
            },
        )
        event("message_stop", {"type": "message_stop"})


class OpenAIServer(ScriptedServer):
    """POST /v1/chat/completions, streaming (`data:` chunks ending in [DONE]) and not."""

    def answer(self, handler: BaseHTTPRequestHandler, step: Scripted, body: dict[str, Any]) -> None:
        if handler.path.split("?")[0] != "/v1/chat/completions":
            self._send_json(
                handler, 404, {"error": {"message": f"no route {handler.path}", "type": "not_found"}}
            )
            return
        if step.status != 200:
            error = {
                "error": {
                    "message": step.error_message,
                    "type": step.error_type or "server_error",
                    "code": None,
                }
            }
            self._send_json(handler, step.status, error, step.headers)
            return
        model = str(body.get("model", ""))
        usage = {
            "prompt_tokens": step.input_tokens + step.cache_read_tokens,
            "completion_tokens": step.output_tokens,
            "total_tokens": step.input_tokens + step.cache_read_tokens + step.output_tokens,
            "prompt_tokens_details": {"cached_tokens": step.cache_read_tokens},
        }
        finish = "length" if step.stop_reason == "max_tokens" else "stop"
        if not body.get("stream"):
            completion = {
                "id": "chatcmpl-scripted",
                "object": "chat.completion",
                "created": 0,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": step.text},
                        "finish_reason": finish,
                    }
                ],
                "usage": usage,
            }
            self._send_json(handler, 200, completion, step.headers)
            return
        self._start_stream(handler, step.headers)

        def chunk(choices: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> None:
            data = {
                "id": "chatcmpl-scripted",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": choices,
            }
            data.update(extra or {})
            handler.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
            handler.wfile.flush()

        chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        for piece in _chunks(step.text, step.chunk_chars):
            chunk([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
        chunk([{"index": 0, "delta": {}, "finish_reason": finish}])
        if (body.get("stream_options") or {}).get("include_usage"):
            chunk([], {"usage": usage})
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()


# A problem whose reference sleeps, and a scripted model reply that drops the sleep: a speedup beyond doubt.
SLOW_REFERENCE = """import time

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        time.sleep(0.003)  # a deliberately slow reference, so the speedup is not in doubt
        return x * 2


def get_inputs():
    return [torch.randn(32, 32)]


def get_init_inputs():
    return []
"""

FAST_REPLY = (
    "Drop the sleep.\n\n```python\nimport torch\nimport torch.nn as nn\n\n\n"
    "class ModelNew(nn.Module):\n    def __init__(self):\n        super().__init__()\n\n"
    "    def forward(self, x):\n        return x * 2\n```\n"
)
