"""`retrain migrate-data`: one .dvc file per batch instead of one for the folder (retrain.migrate_data)."""

from __future__ import annotations

import argparse
from pathlib import Path

from retrain.commands import Commands, remote_arg


def add(commands: Commands) -> None:
    migrate = commands.add_parser("migrate-data", help="one .dvc file per batch instead of one for the folder")
    remote_arg(migrate)
    migrate.set_defaults(call=call)


def call(root: Path, args: argparse.Namespace) -> None:
    from retrain.migrate_data import migrate

    print(migrate(root, args.remote))
