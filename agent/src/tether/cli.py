"""The `tether` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tether._version import __version__
from tether.settings import ClientSettings


def _config(_: argparse.Namespace) -> int:
    settings = ClientSettings.from_env()
    print(f"tether {__version__}")
    print(f"TETHER_API_URL:   {settings.api_url or '(not set: flows run locally, untracked)'}")
    print(f"TETHER_API_KEY:   {'set' if settings.api_key_set else 'not set'}")
    print(f"TETHER_CA_BUNDLE: {settings.ca_bundle or '(system trust store)'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tether", description="Tether's SDK, agent and CLI.")
    parser.add_argument("--version", action="version", version=f"tether {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    config = commands.add_parser("config", help="show the configuration read from the environment")
    config.set_defaults(handler=_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
