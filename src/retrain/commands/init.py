"""`retrain init`: settings, `.gto`, CI callers and the day-one checklist in an existing DVC repository
(retrain.init.command)."""

from __future__ import annotations

import argparse
from pathlib import Path

from retrain.commands import Commands, options


def add(commands: Commands) -> None:
    init = commands.add_parser(
        "init",
        help="adopt the engine in an existing DVC repository: settings, .gto, CI workflows and a day-one checklist",
    )
    init.add_argument("--metric", help="the primary metric, as `dvc metrics show` prints it (e.g. rmse, avg_prec.test)")
    init.add_argument(
        "--direction", choices=("higher", "lower"), help="which way is better (derived from well-known metric names)"
    )
    init.add_argument("--max-regression", metavar="X", help="the largest change for the worse that still gets tagged")
    init.add_argument(
        "--threshold",
        choices=("absolute", "relative"),
        help="X in the metric's units, or a fraction (default: absolute)",
    )
    init.add_argument("--ci", choices=("github", "travis", "both"), default="github", help="CI files to write")
    init.add_argument("--artifact", help="the model to tag, when dvc.yaml declares several")
    init.add_argument("--metrics-file", metavar="PATH", help="the metrics file, when dvc.yaml declares several")
    init.add_argument("--raw-data", metavar="PATH", help="the raw data, when dvc.yaml does not say which it is")
    init.add_argument(
        "--ingest",
        action="store_true",
        help="also write the scheduled ingest (new deliveries in a landing prefix become batches of the raw data)",
    )
    init.add_argument("--force", action="store_true", help="overwrite files that differ from what init writes")
    init.set_defaults(call=call)


def call(root: Path, args: argparse.Namespace) -> None:
    from retrain.init.command import init
    from retrain.init.settings import InitOptions
    from retrain.init.templates import Ci

    outcome = init(root, options(InitOptions, args), Ci(args.ci), force=args.force)
    print("\n".join(outcome.lines()))
    print()
    print(outcome.checklist, end="")
