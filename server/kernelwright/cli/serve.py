"""`kernelwright serve [--stdio | --tcp PORT]`: run the language server.

The server module is imported only here, so other verbs never pay for pygls.
"""

from __future__ import annotations

import argparse
import logging

from kernelwright.cli.output import EXIT_OK, EXIT_USAGE, Output


def add_arguments(parser: argparse.ArgumentParser) -> None:
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    transport.add_argument("--tcp", type=int, metavar="PORT", help="listen for one client on 127.0.0.1:PORT")
    parser.add_argument("--host", default="127.0.0.1", help="address for --tcp (default 127.0.0.1)")
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="server log on stderr (default WARNING)",
    )


def run(args: argparse.Namespace, out: Output) -> int:
    if args.tcp is not None and not 0 < args.tcp < 65536:
        out.error(f"--tcp {args.tcp} is not a port: give a number from 1 to 65535", code="usage")
        return EXIT_USAGE
    # stdout carries the protocol under --stdio: logs go to stderr only.
    logging.basicConfig(level=args.log_level, format="kernelwright %(levelname)s %(name)s: %(message)s")
    from kernelwright.lsp.server import build_server

    server = build_server()
    if args.tcp is not None:
        server.start_tcp(args.host, args.tcp)
    else:
        server.start_io()
    return EXIT_OK
