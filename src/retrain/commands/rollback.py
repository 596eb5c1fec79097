"""`retrain rollback`: give a stage back to the version that held it before (retrain.promotion)."""

from __future__ import annotations

import argparse
from pathlib import Path

from retrain.commands import Commands, remote_arg


def add(commands: Commands) -> None:
    rollback = commands.add_parser("rollback", help="give a stage back to the version that held it before")
    remote_arg(rollback)
    rollback.add_argument("--stage", required=True)
    rollback.add_argument("--note", help="why: free text recorded in the stage tag")
    rollback.set_defaults(call=call)


def call(root: Path, args: argparse.Namespace) -> None:
    from retrain.promotion import rollback

    print(rollback(root, args.stage, args.note, args.remote))
