"""`retrain restore`: bring back a release whole, or only its data or model (retrain.restore)."""

from __future__ import annotations

import argparse
from pathlib import Path

from retrain.commands import Commands, remote_arg


def add(commands: Commands) -> None:
    restore = commands.add_parser("restore", help="bring back a release whole, or only its data or model")
    remote_arg(restore)
    restore.add_argument("tag")
    restore.add_argument("--only", choices=("data", "model"))
    restore.set_defaults(call=call)


def call(root: Path, args: argparse.Namespace) -> None:
    from retrain.restore import restore

    print(restore(root, args.tag, args.only, args.remote))
