"""`retrain which`: the version a stage holds (retrain.promotion)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from retrain.commands import Commands


def add(commands: Commands) -> None:
    which = commands.add_parser("which", help="the version a stage holds (as `gto show model#STAGE`)")
    which.add_argument("--stage", required=True)
    which.add_argument("--json", action="store_true")
    which.set_defaults(call=call)


def call(root: Path, args: argparse.Namespace) -> None:
    from retrain.promotion import which, which_json

    release, held = which(root, args.stage)
    print(json.dumps(which_json(release, held), indent=2) if args.json else held.version)
