"""`retrain announce`: after `retrain run` in CI, where its report goes (retrain.announce)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from retrain.commands import Commands
from retrain.layout import REPORT


def add(commands: Commands) -> None:
    announce = commands.add_parser(
        "announce",
        help="after `retrain run` in CI: print where its report goes (pr/N for each pull request merged since the "
        "previous release, else commit/SHA), and add the list to the report",
    )
    announce.add_argument("--into", default="develop", help="the branch the pull requests were merged into")
    announce.add_argument("--report", type=Path, default=REPORT, help="the report to add the list to")
    announce.add_argument("--repo", help="OWNER/NAME on GitHub (default: $GITHUB_REPOSITORY, else $TRAVIS_REPO_SLUG)")
    announce.set_defaults(call=call)


def call(root: Path, args: argparse.Namespace) -> None:
    from retrain.announce import announce

    made = announce(root, args.into, args.report, os.environ, args.repo)
    for target in made.targets if made else []:
        print(target)
