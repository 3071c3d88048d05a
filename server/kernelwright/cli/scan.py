"""`kernelwright scan FILE...`: the sites, bench specs and static findings of files and directories.

Exit codes: 0 when no finding is an error, 1 when some finding is (a malformed directive, a
non-power-of-two block, a divergent barrier), 2 when a path cannot be read.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

from kernelwright.analysis import analyze, language_for
from kernelwright.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Output
from kernelwright.core.jsonable import JsonValue, to_json
from kernelwright.core.site import AnalysisResult, CudaSpec, FunctionSpec, ModuleSpec, Severity, Site

SKIP_DIRS = frozenset(
    {".git", ".venv", "venv", "node_modules", "__pycache__", ".kernelwright", ".mypy_cache"}
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="FILE", help=".py/.cu/.cuh files, or directories to walk")


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            if language_for(name) is not None:
                yield Path(dirpath) / name


def collect(paths: list[str]) -> tuple[list[Path], str | None]:
    """The files to scan, or an error message naming the bad path and what to do."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += _walk(path)
        elif not path.exists():
            return [], f"{raw}: no such file or directory"
        elif language_for(raw) is None:
            return [], f"{raw}: not a Python (.py/.pyi) or CUDA (.cu/.cuh) file"
        else:
            files.append(path)
    return files, None


def spec_summary(site: Site) -> str:
    spec = site.spec
    if isinstance(spec, ModuleSpec):
        init = f" init={spec.init}" if spec.init else ""
        return f"module inputs={spec.inputs}{init}"
    if isinstance(spec, FunctionSpec):
        extra = [
            f"{k}={v}" for k in ("init", "cpu_inputs", "reference", "atol", "rtol") if (v := getattr(spec, k))
        ]
        return " ".join([f"function inputs={spec.inputs}", *extra])
    if isinstance(spec, CudaSpec):
        smem = f" smem={spec.smem}" if spec.smem else ""
        return f"cuda grid=({','.join(spec.grid)}) block=({','.join(spec.block)}){smem}"
    return "-"


def _file_json(result: AnalysisResult) -> JsonValue:
    return {
        "path": result.path,
        "language": result.language.value,
        "sites": to_json(result.sites),
        "findings": to_json(result.findings),
    }


def _print(out: Output, result: AnalysisResult) -> None:
    out.line(out.style(f"{result.path}", "1") + f" ({result.language.value})")
    if result.sites:
        out.table(
            ["at", "kind", "name", "spec", "links"],
            [
                [
                    f"{s.name_range.start.line + 1}:{s.name_range.start.character + 1}",
                    s.kind.value,
                    s.name,
                    spec_summary(s),
                    ", ".join(s.links) or "-",
                ]
                for s in result.sites
            ],
        )
    else:
        out.line("  no sites")
    if result.findings:
        out.table(
            ["at", "rule", "severity", "message"],
            [
                [
                    f"{f.range.start.line + 1}:{f.range.start.character + 1}",
                    f"{f.rule} {f.name}",
                    f.severity.value,
                    f.message,
                ]
                for f in result.findings
            ],
        )
    out.line()


def run(args: argparse.Namespace, out: Output) -> int:
    files, error = collect(list(args.paths))
    if error is not None:
        out.error(error, code="usage")
        return EXIT_USAGE
    results: list[AnalysisResult] = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            out.error(f"{path}: cannot read ({exc.strerror}); check its permissions", code="usage")
            return EXIT_USAGE
        results.append(analyze(data, str(path)))
    if out.json_mode:
        out.document({"files": [_file_json(r) for r in results]})
    else:
        for r in results:
            _print(out, r)
        sites = sum(len(r.sites) for r in results)
        findings = sum(len(r.findings) for r in results)
        out.line(f"{len(results)} file(s), {sites} site(s), {findings} finding(s)")
    failed = any(f.severity is Severity.ERROR for r in results for f in r.findings)
    return EXIT_FAILED if failed else EXIT_OK
