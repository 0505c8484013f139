"""The `llmsearch` command: one sub-command per concern, one module each in this package.

This package wires the others together; it is the only one allowed to import all of them."""

from __future__ import annotations

import argparse
import sys

from cli import admin, export, load, node, serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmsearch", description="Search logged LLM API requests in OpenSearch")
    commands = parser.add_subparsers(dest="command", required=True)
    serve.add_parser(commands)
    node.add_parser(commands)
    load.add_parser(commands)
    export.add_parser(commands)
    admin.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
