"""The language server's responsiveness, side by side with jedi-language-server, through a real client.

    python benchmarks/lsp.py [--runs 10] [--hovers 200] [--edits 50] [--json]

Measured over stdio with pytest-lsp's client (the same client as tests/lsp):
- start-up: process start to the initialize response (median of --runs), both servers;
- hover latency p50/p95 on a site whose measurement is cached (profiled once through the server on this
  machine's CPU first), and jedi-language-server's hover on the same name;
- lenses after a one-line edit of a 5,000-line file: didChange, then codeLens, until the answer that
  reflects the edit (jedi-language-server has no code lenses);
- resident memory (VmRSS) of each server process after the work above.
Targets (issue 5): start-up no slower than jedi-language-server's, hover p95 < 20 ms, lenses after an
edit < 60 ms, RSS < 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

KERNELWRIGHT = [sys.executable, "-m", "kernelwright", "serve", "--stdio"]
JEDI = [shutil.which("jedi-language-server") or "jedi-language-server"]
SETTINGS = {"device": "cpu", "compileBaseline": False, "autoProfile": "off"}

HEADER = """import torch


def make_inputs():
    return (torch.randn(64, 64),)

"""

BLOCK = '''
# kernelwright: bench inputs=make_inputs
def f_{i}(x):
    """Block {i} of a long file: enough lines that the file is 5,000 lines long."""
    y = x * {k}
    y = y + 1
    y = y - 1
    y = y * 1
    y = y.clamp(-1e6, 1e6)
    y = y + 0
    y = y * 1
    y = y - 0
    y = y.abs() * y.sign()
    y = y + 0
    y = y * 1
    y = y - 0
    y = y + 0
    return y
'''


def big_file(lines: int = 5000) -> str:
    parts = [HEADER]
    i = 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(BLOCK.format(i=i, k=i % 7 + 1))
        i += 1
    return "".join(parts)


@dataclass(frozen=True)
class Numbers:
    server: str
    startup_ms_median: float
    startup_ms_runs: int
    hover_ms_p50: float | None
    hover_ms_p95: float | None
    lenses_after_edit_ms_p50: float | None
    lenses_after_edit_ms_p95: float | None
    rss_mb: float


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def start(cmd: list[str], root: Path, options: Any) -> tuple[LanguageClient, float]:
    """A server up and initialized; the seconds from process start to the initialize response."""
    t0 = time.perf_counter()
    client = await ClientServerConfig(server_command=cmd).start()
    assert isinstance(client, LanguageClient)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            root_uri=root.as_uri(),
            initialization_options=options,
        )
    )
    return client, time.perf_counter() - t0


async def stop(client: LanguageClient) -> None:
    await client.shutdown_session()
    await client.stop()


def rss_mb(client: LanguageClient) -> float:
    server = client._server
    assert server is not None
    for line in Path(f"/proc/{server.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def startup(cmd: list[str], root: Path, options: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        client, seconds = await start(cmd, root, options)
        times.append(seconds * 1000)
        await stop(client)
    return statistics.median(times)


def open_doc(client: LanguageClient, path: Path, text: str) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )
    return uri


async def hover_times(client: LanguageClient, uri: str, pos: types.Position, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        answer = await client.text_document_hover_async(
            types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos)
        )
        times.append((time.perf_counter() - t0) * 1000)
        assert answer is not None, "no hover"
    return times


async def lens_after_edit_times(client: LanguageClient, uri: str, line: int, n: int) -> list[float]:
    """Rename the site on `line` back and forth; each time until the lenses name the new name."""
    times = []
    for version in range(2, n + 2):
        name = "f_0" if version % 2 else "g_0"
        t0 = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=types.Position(line, 4), end=types.Position(line, 7)),
                        text=name,
                    )
                ],
            )
        )
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        times.append((time.perf_counter() - t0) * 1000)
        names = {
            str(a.get("site")) for lens in lenses or [] if lens.command for a in lens.command.arguments or []
        }
        assert name in names, f"the lenses after the edit do not name {name}"
    return times


async def profile_first_site(client: LanguageClient, uri: str) -> None:
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="kernelwright.profile", arguments=[{"uri": uri, "site": "f_0"}])
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        if any(lens.command and " · CPU" in lens.command.title for lens in lenses or []):
            return
        await asyncio.sleep(0.2)
    raise RuntimeError("the site was not measured within 300 s")


async def run(runs: int, hovers: int, edits: int) -> list[Numbers]:
    with tempfile.TemporaryDirectory(prefix="kw-lsp-bench-") as tmp:
        root = Path(tmp)
        text = big_file()
        path = root / "big.py"
        path.write_text(text)
        site_line = text.splitlines().index("def f_0(x):")
        name_pos = types.Position(site_line, 5)
        out: list[Numbers] = []

        kw_start = await startup(KERNELWRIGHT, root, SETTINGS, runs)
        client, _ = await start(KERNELWRIGHT, root, SETTINGS)
        uri = open_doc(client, path, text)
        await profile_first_site(client, uri)
        await hover_times(client, uri, name_pos, 10)  # warm
        hover = await hover_times(client, uri, name_pos, hovers)
        lens = await lens_after_edit_times(client, uri, site_line, edits)
        kw_rss = rss_mb(client)
        await stop(client)
        out.append(
            Numbers(
                "kernelwright",
                kw_start,
                runs,
                percentile(hover, 0.5),
                percentile(hover, 0.95),
                percentile(lens, 0.5),
                percentile(lens, 0.95),
                kw_rss,
            )
        )

        jedi_start = await startup(JEDI, root, None, runs)
        client, _ = await start(JEDI, root, None)
        uri = open_doc(client, path, text)
        await hover_times(client, uri, name_pos, 10)
        hover = await hover_times(client, uri, name_pos, hovers)
        jedi_rss = rss_mb(client)
        await stop(client)
        out.append(
            Numbers(
                "jedi-language-server",
                jedi_start,
                runs,
                percentile(hover, 0.5),
                percentile(hover, 0.95),
                None,
                None,
                jedi_rss,
            )
        )
        return out


def table(rows: list[Numbers]) -> str:
    def ms(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.1f}"

    lines = [
        "| server | start-up to initialize (median) | hover p50 / p95 | lenses after edit p50 / p95 | RSS |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.server} | {r.startup_ms_median:.0f} ms (n={r.startup_ms_runs}) | "
            f"{ms(r.hover_ms_p50)} / {ms(r.hover_ms_p95)} ms | "
            f"{ms(r.lenses_after_edit_ms_p50)} / {ms(r.lenses_after_edit_ms_p95)} ms | {r.rss_mb:.0f} MB |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10, help="start-ups per server (default 10)")
    parser.add_argument("--hovers", type=int, default=200, help="hover requests per server (default 200)")
    parser.add_argument("--edits", type=int, default=50, help="edit + codeLens rounds (default 50)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()
    if shutil.which("jedi-language-server") is None:
        print("jedi-language-server is not installed: pip install jedi-language-server", file=sys.stderr)
        return 2
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    rows = asyncio.run(run(args.runs, args.hovers, args.edits))
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
