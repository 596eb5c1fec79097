"""`retrain promote`: assign a stage to a release, pushed to origin (retrain.promotion)."""

from __future__ import annotations

import argparse
from pathlib import Path

from retrain.commands import Commands, remote_arg


def add(commands: Commands) -> None:
    promote = commands.add_parser("promote", help="assign a stage (e.g. prod) to a release, pushed to origin")
    remote_arg(promote)
    promote.add_argument("version", help="the release, e.g. v1.3.0 or model@v1.3.0")
    promote.add_argument("--stage", required=True, help="one of the stages .gto allows")
    promote.add_argument("--note", help="why: free text recorded in the stage tag")
    promote.set_defaults(call=call)


def call(root: Path, args: argparse.Namespace) -> None:
    from retrain.promotion import promote

    print(promote(root, args.version, args.stage, args.note, args.remote))
