"""`retrain remote set-bucket`: point the CI's DVC remote at a bucket, committed (retrain.remote)."""

from __future__ import annotations

import argparse
from pathlib import Path

from retrain.commands import Commands

CI_REMOTE = "s3remote"  # the remote the CI files use (RETRAIN_REMOTE in .github/workflows and .travis.yml)


def add(commands: Commands) -> None:
    remote = commands.add_parser("remote", help="the DVC remote CI uses")
    remote_commands = remote.add_subparsers(dest="remote_command", required=True)
    bucket = remote_commands.add_parser(
        "set-bucket", help="point the CI remote at s3://BUCKET/PREFIX in .dvc/config and commit it (day one)"
    )
    bucket.add_argument("url", help="s3://BUCKET/PREFIX")
    bucket.add_argument("--name", default=CI_REMOTE, help=f"the DVC remote to change (default: {CI_REMOTE})")
    remote.set_defaults(call=call)


def call(root: Path, args: argparse.Namespace) -> None:
    from retrain.remote import set_bucket

    print(set_bucket(root, args.name, args.url))
