"""`retrain releases`: every release, newest first (retrain.releases)."""

from __future__ import annotations

import argparse
from pathlib import Path

from retrain.commands import Commands


def add(commands: Commands) -> None:
    releases = commands.add_parser("releases", help="every release, newest first")
    releases.add_argument(
        "--json",
        action="store_true",
        help="everything `retrain history --html` shows, as JSON: releases, trends, stages, gated runs",
    )
    releases.set_defaults(call=call)


def call(root: Path, args: argparse.Namespace) -> None:
    from retrain.releases import list_releases, releases_json, releases_table

    found = list_releases(root)
    print(releases_json(found) if args.json else releases_table(found.releases))
