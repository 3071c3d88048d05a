"""The headless verbs: `kernelwright scan|bench|verify|calibrate|optimize|suite|undo|serve`.

Each verb lives in its own module here and registers an argparse sub-parser through `VERBS`. Every verb
takes `--json`; errors then come out as one JSON document too, with a non-zero exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from kernelwright import __version__
from kernelwright.cli.output import EXIT_USAGE, Output

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader left

# verb -> module under kernelwright.cli. A module defines `add_arguments(parser)` and `run(args, out) -> int`.
VERBS: dict[str, tuple[str, str]] = {
    "scan": ("kernelwright.cli.scan", "list sites, bench specs and static findings"),
    "bench": ("kernelwright.cli.bench", "measure a site, with eager and torch.compile baselines"),
    "verify": ("kernelwright.cli.verify", "check a candidate against the reference"),
    "calibrate": ("kernelwright.cli.calibrate", "measure this GPU's copy bandwidth and matmul peak"),
    "optimize": ("kernelwright.cli.optimize", "search for a faster verified replacement of a site"),
    "suite": ("kernelwright.cli.suite", "run a provider over a folder of KernelBench-convention problems"),
    "undo": ("kernelwright.cli.undo", "restore the source that `optimize --apply` replaced"),
    "serve": ("kernelwright.cli.serve", "run the language server"),
}


class ArgumentError(Exception):
    """A command line argparse refused: raised instead of argparse's exit, so --json can answer it."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ArgumentError(f"{self.prog}: {message}", self.format_usage())


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with `only`, the other verbs are listed but their modules are not imported
    (importing every verb's layers costs the language server ~150 ms of start-up)."""
    parser = _Parser(
        prog="kernelwright",
        description="Find, measure, verify and optimize GPU kernels in PyTorch, Triton and CUDA files.",
    )
    parser.add_argument("--version", action="version", version=f"kernelwright {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    for verb, (module_name, help_text) in VERBS.items():
        p = sub.add_parser(verb, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
        if only is None or verb == only:
            importlib.import_module(module_name).add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=words[0] if words and words[0] in VERBS else None)
    try:
        args = parser.parse_args(words)
    except ArgumentError as exc:
        # One JSON document in --json mode, as for every other error; else argparse's usage and message.
        out = Output(json_mode="--json" in words)
        if not out.json_mode:
            out.err.write(exc.usage)
        verb = f" {words[0]}" if words and words[0] in VERBS else ""
        out.error(f"{exc}; see `kernelwright{verb} --help`", code="usage")
        return EXIT_USAGE
    if args.verb is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    module = importlib.import_module(VERBS[args.verb][0])
    out = Output(json_mode=args.json)
    try:
        code: int = module.run(args, out)
    except KeyboardInterrupt:
        out.error("interrupted", code="interrupted")
        return 130
    except BrokenPipeError:
        return _closed_pipe()
    try:
        if not sys.stdout.closed:  # `serve --stdio` closes it when the client says exit
            sys.stdout.flush()
    except BrokenPipeError:
        return _closed_pipe()
    return code


def _closed_pipe() -> int:
    """The reader of stdout went away (`kernelwright ... --json | head`): stop quietly, as cat does.
    stdout is pointed at /dev/null so the interpreter's own flush at exit does not raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
