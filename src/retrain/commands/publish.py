"""`retrain publish`: copy a stage's model and model card to where serving reads (retrain.publish)."""

from __future__ import annotations

import argparse
from pathlib import Path

from retrain.commands import Commands, remote_arg


def add(commands: Commands) -> None:
    publish = commands.add_parser("publish", help="copy a stage's model and model card to where serving reads")
    remote_arg(publish)
    publish.add_argument("--stage", required=True)
    publish.add_argument("--to", required=True, help="serving root, e.g. s3://BUCKET/serving (STAGE/ is added)")
    publish.set_defaults(call=call)


def call(root: Path, args: argparse.Namespace) -> None:
    from retrain.publish import publish

    print(publish(root, args.stage, args.to, args.remote))
