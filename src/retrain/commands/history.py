"""`retrain history --html OUT/`: the release history as a static page, OUT/index.html (retrain.history)."""

from __future__ import annotations

import argparse
from pathlib import Path

from retrain.commands import Commands


def add(commands: Commands) -> None:
    history = commands.add_parser(
        "history",
        help="the release history as a self-contained page: trends, releases, stages, gated runs",
    )
    history.add_argument(
        "--html",
        type=Path,
        required=True,
        metavar="OUT",
        help="the folder to write index.html into (made if missing); `retrain releases --json` has the same data",
    )
    history.set_defaults(call=call)


def call(root: Path, args: argparse.Namespace) -> None:
    from retrain.history.write import write_page

    print(write_page(root, args.html))
