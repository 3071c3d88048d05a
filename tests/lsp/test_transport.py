"""`kernelwright serve --tcp PORT` speaks the same protocol over a socket; bad ports are refused."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

SERVE = [sys.executable, "-m", "kernelwright", "serve"]


def _message(payload: dict[str, object]) -> bytes:
    body = json.dumps(payload).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def _read(sock: socket.socket) -> dict[str, object]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1]
    )
    while len(rest) < length:
        rest += sock.recv(4096)
    answer: dict[str, object] = json.loads(rest[:length])
    return answer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_tcp_transport_answers_initialize() -> None:
    port = _free_port()
    server = subprocess.Popen([*SERVE, "--tcp", str(port)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError("the server did not listen on its port") from None
                time.sleep(0.05)
        with sock:
            sock.sendall(
                _message({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
            )
            answer = _read(sock)
            result = answer["result"]
            assert isinstance(result, dict)
            caps = result["capabilities"]
            assert caps["codeLensProvider"] is not None and caps["hoverProvider"]
            assert caps["positionEncoding"] == "utf-16"
            assert caps["textDocumentSync"]["change"] == 2  # incremental
            assert "kernelwright.optimize" in caps["executeCommandProvider"]["commands"]
            sock.sendall(_message({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
            assert _read(sock)["id"] == 2
            sock.sendall(_message({"jsonrpc": "2.0", "method": "exit"}))
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_a_bad_port_is_a_usage_error_with_the_fix() -> None:
    done = subprocess.run([*SERVE, "--tcp", "70000"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "1 to 65535" in done.stderr
