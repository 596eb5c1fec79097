"""`retrain ingest`: new deliveries from a landing become raw batches (retrain.ingest)."""

from __future__ import annotations

import argparse
from pathlib import Path

from retrain.commands import Commands, options, remote_arg


def add(commands: Commands) -> None:
    ingest = commands.add_parser("ingest", help="new deliveries from a landing prefix or folder become raw batches")
    remote_arg(ingest)
    ingest.add_argument("source", help="the landing: s3://bucket/prefix/ (the DVC remote's S3 settings) or a folder")
    ingest.add_argument(
        "--release", action="store_true", help="commit on the current branch and release (else: an ingest/ branch)"
    )
    pushing = ingest.add_mutually_exclusive_group()
    pushing.add_argument("--push", action="store_true", help="push the branch (and the release) to origin")
    pushing.add_argument(
        "--hold",
        action="store_true",
        help="all of --push but the git push (a release: as a dry run); --resume pushes it later",
    )
    pushing.add_argument(
        "--resume",
        action="store_true",
        help="push (and release) what a --hold run committed, with its report; lists nothing new",
    )
    ingest.add_argument(
        "--rescan", action="store_true", help="list the whole landing, not only the keys after the last recorded one"
    )
    ingest.set_defaults(call=call)


def call(root: Path, args: argparse.Namespace) -> int:
    from retrain.ingest.run import IngestOptions, ingest_command

    return ingest_command(root, options(IngestOptions, args))
