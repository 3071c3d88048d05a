"""What the server does with bad or awkward input, driven through the real server process (issue 15):
invalid params, frames that are not JSON, out-of-order or unknown didChange, FIFOs and devices in the
workspace, a 5 MB document next to a small one, and a shutdown while files move on disk.

Some tests speak raw JSON-RPC over the server's stdio (`RawServer`): pytest-lsp's client validates what
it sends, and these tests must send what a broken client would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

from lsp.editor_support import DEADLINE, SERVER, Editor, StartEditor, wait_until
from lsprotocol import types

# A request answered at all is answered in well under this; the old server never answered these.
PROMPT = 15.0

SITE = """import torch


def make_inputs():
    return (torch.randn(64),)


# kernelwright: bench inputs=make_inputs
def {name}(x):
    return torch.relu(x)
"""
SITE_LINE = 8  # the `def` line of SITE


class RawServer:
    """`kernelwright serve --stdio` with a client that sends whatever bytes it is told to."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.received: list[dict[str, Any]] = []
        self.stderr = bytearray()
        self._next_id = 100
        self._tasks = [asyncio.create_task(self._read_stdout()), asyncio.create_task(self._read_stderr())]

    @classmethod
    async def start(cls, root: Path) -> RawServer:
        proc = await asyncio.create_subprocess_exec(
            *SERVER,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        server = cls(proc)
        folder = {"uri": root.resolve().as_uri(), "name": root.name}
        init = {"processId": None, "rootUri": folder["uri"], "capabilities": {}, "workspaceFolders": [folder]}
        answer = await server.request("initialize", init, timeout=DEADLINE)
        assert "result" in answer, answer
        server.notify("initialized", {})
        return server

    async def _read_stdout(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while (line := await out.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line or length is None:
                return
            self.received.append(json.loads(await out.readexactly(length)))

    async def _read_stderr(self) -> None:
        err = self.proc.stderr
        assert err is not None
        while chunk := await err.read(65536):
            self.stderr += chunk

    def send_frame(self, body: bytes) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def send(self, message: dict[str, Any]) -> None:
        self.send_frame(json.dumps({"jsonrpc": "2.0", **message}).encode())

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    async def request(self, method: str, params: Any = None, timeout: float = PROMPT) -> dict[str, Any]:
        """Send a request and wait for its response (result or error); fail the test if none comes."""
        self._next_id += 1
        msg_id = self._next_id
        self.send({"id": msg_id, "method": method, **({"params": params} if params is not None else {})})

        def answer() -> dict[str, Any] | None:
            return next((m for m in self.received if m.get("id") == msg_id and "method" not in m), None)

        found: dict[str, Any] = await wait_until(answer, timeout, f"an answer to {method} (id {msg_id})")
        return found

    def notifications(self, method: str) -> list[Any]:
        return [m.get("params") for m in self.received if m.get("method") == method and "id" not in m]

    async def shutdown(self) -> int:
        """shutdown, then exit; the exit code, once stdout and stderr are read to their end."""
        answer = await self.request("shutdown", timeout=DEADLINE)
        assert "result" in answer, answer
        self.notify("exit", None)
        stdin = self.proc.stdin
        assert stdin is not None
        await stdin.drain()
        code = await asyncio.wait_for(self.proc.wait(), DEADLINE)
        await asyncio.wait_for(asyncio.gather(*self._tasks), DEADLINE)
        return code

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        for task in self._tasks:
            task.cancel()


@contextlib.asynccontextmanager
async def raw_server(root: Path) -> Any:
    server = await RawServer.start(root)
    try:
        yield server
    finally:
        await server.kill()


def _hover_params(uri: str, **position: Any) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, **position}


async def test_a_request_with_invalid_params_gets_an_invalid_params_error(tmp_path: Path) -> None:
    path = tmp_path / "site.py"
    path.write_text(SITE.format(name="alpha"))
    uri = path.resolve().as_uri()
    async with raw_server(tmp_path) as server:
        missing = await server.request("textDocument/hover", _hover_params(uri))
        assert missing["error"]["code"] == types.ErrorCodes.InvalidParams
        assert "position" in missing["error"]["message"]

        wrong_type = await server.request(
            "textDocument/hover", _hover_params(uri, position={"line": "eight", "character": 4})
        )
        assert wrong_type["error"]["code"] == types.ErrorCodes.InvalidParams
        assert "line" in wrong_type["error"]["message"]

        no_params = await server.request("textDocument/codeLens")
        assert no_params["error"]["code"] == types.ErrorCodes.InvalidParams

        # A notification cannot be answered: a line in the log, no popup.
        server.notify("textDocument/didOpen", {"textDocument": {"uri": uri}})
        # The server goes on answering well-formed requests.
        good = await server.request(
            "textDocument/hover", _hover_params(uri, position={"line": SITE_LINE, "character": 4})
        )
        assert "alpha" in good["result"]["contents"]["value"]
        logged = [p["message"] for p in server.notifications("window/logMessage")]
        assert any("invalid params for textDocument/didOpen" in m for m in logged), logged
        assert server.notifications("window/showMessage") == []
        assert await server.shutdown() == 0


async def test_malformed_json_gets_no_popup_storm_and_the_server_keeps_answering(tmp_path: Path) -> None:
    path = tmp_path / "site.py"
    path.write_text(SITE.format(name="alpha"))
    uri = path.resolve().as_uri()
    async with raw_server(tmp_path) as server:
        for body in (b"{not json", b"\x00\xff garbage", b'{"jsonrpc": "2.0", "id": 1, "method": '):
            for _ in range(5):
                server.send_frame(body)
        answer = await server.request(
            "textDocument/hover", _hover_params(uri, position={"line": SITE_LINE, "character": 4})
        )
        assert "alpha" in answer["result"]["contents"]["value"]
        popups = server.notifications("window/showMessage")
        assert len(popups) <= 1, popups
        logged = [p["message"] for p in server.notifications("window/logMessage")]
        assert sum("could not be read" in m for m in logged) == 15, logged
        assert await server.shutdown() == 0
    stderr = server.stderr.decode(errors="replace")
    assert "Traceback" not in stderr, stderr  # one line each, no traceback per frame


def _site_names(lenses: list[types.CodeLens]) -> set[str]:
    return {
        lens.command.arguments[0]["site"]
        for lens in lenses
        if lens.command is not None and lens.command.arguments
    }


def _replace_all(editor: Editor, uri: str, version: int, text: str) -> None:
    editor.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def test_did_change_for_an_unopened_document_or_an_older_version_is_ignored(
    start_editor: StartEditor, tmp_path: Path
) -> None:
    editor = await start_editor()
    uri = editor.open("doc.py", SITE.format(name="alpha"))
    _replace_all(editor, uri, 3, SITE.format(name="beta"))
    _replace_all(editor, uri, 2, SITE.format(name="gamma"))  # older than 3: a stale change
    _replace_all(editor, uri, 3, SITE.format(name="delta"))  # a repeat of version 3
    never = (tmp_path / "never_opened.py").resolve().as_uri()
    _replace_all(editor, never, 7, SITE.format(name="epsilon"))
    editor.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=never, version=8),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=0, character=0), end=types.Position(line=0, character=1)
                    ),
                    text="x",
                )
            ],
        )
    )

    assert _site_names(await editor.lenses(uri)) == {"beta"}
    assert await editor.lenses(never) == []  # not opened, not on disk: nothing, and no error

    logged = [m.message for m in editor.client.log_messages]
    assert any(f"{uri} at version 2, not above the last one seen (3): ignored" in m for m in logged), logged
    assert any(f"{uri} at version 3, not above the last one seen (3): ignored" in m for m in logged), logged
    assert sum(f"didChange for {never}, which is not open: ignored" in m for m in logged) == 2, logged
    assert editor.messages() == []

    # A later change in order still applies.
    _replace_all(editor, uri, 4, SITE.format(name="zeta"))
    assert _site_names(await editor.lenses(uri)) == {"zeta"}


async def _hover_within(editor: Editor, uri: str, line: int, character: int, what: str) -> str | None:
    try:
        return await asyncio.wait_for(editor.hover(uri, line, character), PROMPT)
    except TimeoutError:
        raise AssertionError(f"the hover on {what} did not answer within {PROMPT:.0f} s") from None


async def test_a_fifo_or_device_file_in_the_workspace_never_blocks_the_server(
    start_editor: StartEditor, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    device = tmp_path / "zero.py"
    device.symlink_to("/dev/zero")  # a character device that never ends
    (tmp_path / "pkg").mkdir()
    os.mkfifo(tmp_path / "pkg" / "deep.cu")
    regular = tmp_path / "site.py"
    regular.write_text(SITE.format(name="alpha"))
    writer_fd: int | None = None
    try:
        # The workspace scan at start (the watcher's) meets them first.
        editor = await start_editor(init_options={"debounceMs": 50})
        fifo_uri, device_uri = fifo.resolve().as_uri(), device.resolve().as_uri()

        # A hover on each, not open: the file on disk is not a regular file, so there is nothing to show.
        assert await _hover_within(editor, fifo_uri, 0, 0, "a FIFO") is None
        assert await _hover_within(editor, device_uri, 0, 0, "/dev/zero") is None
        assert await editor.lenses(fifo_uri) == []

        # The watcher sees a FIFO appear and be written to (opened read-write: it blocks no one).
        late = tmp_path / "late.py"
        os.mkfifo(late)
        writer_fd = os.open(late, os.O_RDWR | os.O_NONBLOCK)
        os.write(writer_fd, b"x = 1\n")
        await wait_until(
            lambda: any("late.py" in m.message for m in editor.client.log_messages),
            DEADLINE,
            "the watcher to report late.py",
        )
        assert await _hover_within(editor, late.resolve().as_uri(), 0, 0, "a FIFO the watcher saw") is None

        # Opened in the editor, a FIFO's buffer is analysed like any other; closed, it is not read.
        editor.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=fifo_uri, language_id="python", version=1, text=SITE.format(name="piped")
                )
            )
        )
        assert "piped" in (await _hover_within(editor, fifo_uri, SITE_LINE, 4, "an open FIFO") or "")
        editor.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=fifo_uri))
        )
        assert await _hover_within(editor, fifo_uri, SITE_LINE, 4, "a closed FIFO") is None

        # And the server answers on regular files as before.
        hover = await _hover_within(editor, regular.resolve().as_uri(), SITE_LINE, 4, "a regular file")
        assert hover is not None and "alpha" in hover
    finally:
        if writer_fd is not None:
            os.close(writer_fd)
        # The old server blocks in open() on the FIFO: a writer lets it go, so the test can end.
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_RDWR | os.O_NONBLOCK))


def _big_python(size: int) -> str:
    block = (
        "\n\ndef helper_{i}(a, b):\n"
        '    """Scale and shift, number {i}."""\n'
        "    c = a * b + {i}\n"
        "    if c > 10:\n"
        "        return [c, c + 1, c + 2]\n"
        '    return {{"value": c, "index": {i}}}\n'
    )
    parts = ["import math\n"]
    total = 0
    i = 0
    while total < size:
        part = block.format(i=i)
        parts.append(part)
        total += len(part)
        i += 1
    return "".join(parts)


async def test_a_big_document_does_not_block_hovers_on_other_documents(
    start_editor: StartEditor, tmp_path: Path
) -> None:
    editor = await start_editor(init_options={"autoProfile": "off"})
    small = editor.open("small.py", SITE.format(name="alpha"))
    await wait_until(lambda: small in editor.client.diagnostics, DEADLINE, "the small file's diagnostics")
    assert "alpha" in (await editor.hover(small, SITE_LINE, 4) or "")

    big_text = _big_python(5_000_000)
    loop = asyncio.get_running_loop()
    opened_at = loop.time()
    big = editor.open("big.py", big_text)
    asked_at = loop.time()
    hover = await _hover_within(editor, small, SITE_LINE, 4, "the small file while the big one is analysed")
    hover_s = loop.time() - asked_at
    big_diagnosed = big in editor.client.diagnostics
    await wait_until(lambda: big in editor.client.diagnostics, 240.0, "the big file's diagnostics")
    big_s = loop.time() - opened_at

    assert hover is not None and "alpha" in hover
    assert not big_diagnosed, (
        f"the hover waited for the big file's analysis ({hover_s:.2f} s of {big_s:.2f} s)"
    )
    assert hover_s < 0.5 * big_s, f"the small hover took {hover_s:.2f} s; the big analysis {big_s:.2f} s"
    # The big document's own requests wait for its analysis and are answered.
    assert await editor.lenses(big) == []


def _move_out_continuously(root: Path, outside: Path, stop: threading.Event) -> None:
    """Files appearing in the workspace and moving out of it: watchdog holds each move out for half a
    second (waiting for a move in that would pair with it), so some are always in flight."""
    i = 0
    while not stop.is_set():
        i += 1
        name = f"moved_{i % 8}.py"
        (root / name).write_text("x = 1\n")
        os.replace(root / name, outside / name)
        time.sleep(0.003)


async def test_a_normal_shutdown_logs_no_watchdog_error_or_warning(tmp_path: Path) -> None:
    root, outside = tmp_path / "ws", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    for i in range(5):
        (root / f"d{i}" / "sub").mkdir(parents=True)
        (root / f"d{i}" / "m.py").write_text("x = 1\n")
    stop = threading.Event()
    churn = threading.Thread(target=_move_out_continuously, args=(root, outside, stop), daemon=True)
    async with raw_server(root) as server:
        churn.start()
        try:
            await wait_until(
                lambda: any(
                    "changed on disk" in p["message"] for p in server.notifications("window/logMessage")
                ),
                DEADLINE,
                "the watcher to see files change",
            )
            code = await server.shutdown()
        finally:
            stop.set()
            churn.join()
    assert code == 0
    stderr = server.stderr.decode(errors="replace")
    noisy = [
        line
        for line in stderr.splitlines()
        if re.search(r"\b(ERROR|WARNING)\b.*watchdog|watchdog.*\b(ERROR|WARNING)\b", line)
    ]
    assert noisy == [], stderr
    assert "Traceback" not in stderr, stderr
