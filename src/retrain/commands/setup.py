"""`retrain setup`: register DVC's git merge driver and post-checkout hook in this clone (retrain.gitops.configure)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from retrain.commands import Commands


def add(commands: Commands) -> None:
    setup = commands.add_parser("setup", help="register DVC's git merge driver and post-checkout hook in this clone")
    setup.set_defaults(call=call)


def call(root: Path, _: argparse.Namespace) -> None:
    from retrain import gitops

    gitops.configure(root, str(Path(sys.executable).parent / "dvc"))
    print("setup: DVC merge driver and post-checkout hook registered")
