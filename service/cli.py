"""The `llmsearch` command: one sub-command per concern, each defined beside the code it drives."""

from __future__ import annotations

import argparse
import sys

from loaders import cli as loaders_cli
from service import admin_cli, serve
from service.node import cli as node_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmsearch", description="Search logged LLM API requests in OpenSearch")
    commands = parser.add_subparsers(dest="command", required=True)
    serve.add_parser(commands)
    node_cli.add_parser(commands)
    loaders_cli.add_parser(commands)
    admin_cli.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
