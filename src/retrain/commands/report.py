"""`retrain report`: the pull-request report against a base ref (retrain.report.command)."""

from __future__ import annotations

import argparse
from pathlib import Path

from retrain.commands import Commands, env_remote_arg, remote_arg
from retrain.layout import REPORT

PUSH_TO_ENV = "RETRAIN_PUSH_TO"  # pull-request builds: where they upload (s3remote-pr), apart from the release remote
PUSH_TO_HELP = (
    "upload what the reproduction computed to this remote (the pull requests' own) and nothing to --remote "
    f"(default: ${PUSH_TO_ENV}, else --remote)"
)


def add(commands: Commands) -> None:
    report = commands.add_parser("report", help="the pull-request report against a base ref")
    remote_arg(report)
    report.add_argument("--base", required=True, help="ref to compare with, e.g. origin/develop")
    report.add_argument("--output", type=Path, default=REPORT)
    report.add_argument("--reproduce", action="store_true", help="pull, reproduce and push the run-cache first")
    env_remote_arg(report, "--push-to", PUSH_TO_ENV, PUSH_TO_HELP)
    report.set_defaults(call=call)


def call(root: Path, args: argparse.Namespace) -> None:
    from retrain.report.command import pr_report

    print(f"report: {pr_report(root, args.base, args.output, args.reproduce, args.remote, args.push_to)}")
