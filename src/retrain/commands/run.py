"""`retrain run`: reproduce, push, verify, commit, gate and tag a release (retrain.run)."""

from __future__ import annotations

import argparse
from pathlib import Path

from retrain.commands import Commands, env_remote_arg, options, remote_arg

TRUST_ENV = "RETRAIN_TRUST_RUNS_FROM"  # opt-in: the merge build also restores from this remote's run-cache
TRUST_HELP = (
    "opt-in: also restore stages from this remote's run-cache (what pull requests computed; trusts everyone who "
    f"can push a branch, see docs/ci.md; default: ${TRUST_ENV})"
)


def add(commands: Commands) -> None:
    run = commands.add_parser("run", help="reproduce, push, verify, commit, gate and tag a release")
    remote_arg(run)
    run.add_argument("--push", action="store_true", help="push the commit and tag to origin")
    run.add_argument("--force", action="store_true", help="recompute every stage (ignore the run-cache)")
    run.add_argument("--dry-run", action="store_true", help="reproduce, verify and gate; commit and tag nothing")
    run.add_argument("--note", help="free text recorded in the tag message")
    run.add_argument("--major", action="store_true", help="bump the major version")
    env_remote_arg(run, "--trust-runs-from", TRUST_ENV, TRUST_HELP)
    run.set_defaults(call=call)


def call(root: Path, args: argparse.Namespace) -> None:
    from retrain.run import RunOptions, run

    print(run(root, options(RunOptions, args)).message)
