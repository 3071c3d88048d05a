"""The headless verbs: `kernelwright scan|bench|verify|calibrate|optimize|undo|serve`.

Each verb lives in its own module here and registers an argparse sub-parser through `VERBS`. Every verb
takes `--json`; errors then come out as one JSON document too, with a non-zero exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kernelwright import __version__
from kernelwright.cli.output import EXIT_USAGE, Output

# verb -> module under kernelwright.cli. A module defines `add_arguments(parser)` and `run(args, out) -> int`.
VERBS: dict[str, tuple[str, str]] = {
    "scan": ("kernelwright.cli.scan", "list sites, bench specs and static findings"),
    "bench": ("kernelwright.cli.bench", "measure a site, with eager and torch.compile baselines"),
    "verify": ("kernelwright.cli.verify", "check a candidate against the reference"),
    "calibrate": ("kernelwright.cli.calibrate", "measure this GPU's copy bandwidth and matmul peak"),
    "optimize": ("kernelwright.cli.optimize", "search for a faster verified replacement of a site"),
    "undo": ("kernelwright.cli.undo", "restore the source that `optimize --apply` replaced"),
    "serve": ("kernelwright.cli.serve", "run the language server"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with `only`, the other verbs are listed but their modules are not imported
    (importing every verb's layers costs the language server ~150 ms of start-up)."""
    parser = argparse.ArgumentParser(
        prog="kernelwright",
        description="Find, measure, verify and optimize GPU kernels in PyTorch, Triton and CUDA files.",
    )
    parser.add_argument("--version", action="version", version=f"kernelwright {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb, (module_name, help_text) in VERBS.items():
        p = sub.add_parser(verb, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
        if only is None or verb == only:
            importlib.import_module(module_name).add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=words[0] if words and words[0] in VERBS else None)
    args = parser.parse_args(argv)
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
    return code


if __name__ == "__main__":
    sys.exit(main())
