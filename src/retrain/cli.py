"""`retrain`: a thin command line over the release engine. Exit codes: 0 ok, 1 failure, 2 bad input, 3 gated."""

from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import version
from pathlib import Path

from retrain.commands import (
    announce,
    history,
    ingest,
    init,
    migrate_data,
    promote,
    publish,
    releases,
    remote,
    report,
    restore,
    rollback,
    run,
    setup,
    which,
)
from retrain.errors import EXIT_FAILURE, EXIT_OK, RetrainError, keep_traceback
from retrain.layout import ERROR_LOG

# Every verb, in the order `retrain --help` lists them: `retrain X` lives in retrain/commands/X.py.
COMMANDS = (
    init,
    run,
    report,
    releases,
    history,
    restore,
    promote,
    rollback,
    which,
    publish,
    announce,
    remote,
    ingest,
    setup,
    migrate_data,
)


class _Version(argparse.Action):
    """The installed distribution's version (pyproject.toml's), the one a CI pin or a bug report names. Read only
    when asked: a metadata lookup on every command's start-up would be wasted."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help=str(kwargs.get("help")))

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"{parser.prog} {version('retrain')}")  # on stdout, as argparse's own `version` action prints it
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="retrain", description=__doc__)
    parser.add_argument("--version", action=_Version, help="print the installed version of retrain and exit")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add(commands)
    return parser


def dispatch(args: argparse.Namespace) -> int:
    from retrain import gitops

    root = gitops.toplevel(Path.cwd())
    os.chdir(root)  # DVC stage commands use paths relative to the repository root
    code: int | None = args.call(root, args)
    return EXIT_OK if code is None else code


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return dispatch(args)
    except RetrainError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; re-run to finish: nothing half-made was pushed.", file=sys.stderr)
        return 130
    except Exception as error:  # a bug or an unforeseen failure: one line for the user, the traceback in a file
        return _unexpected(error)


def _unexpected(error: Exception) -> int:
    # dispatch() moved to the repository root before anything could fail here
    kept = keep_traceback(error, Path.cwd() / ERROR_LOG)
    where = f"the traceback is in {ERROR_LOG}" if kept else "the traceback could not be saved"
    reason = str(error).splitlines()[0] if str(error) else ""
    print(f"error: unexpected {type(error).__name__}: {reason} ({where}; please report it).", file=sys.stderr)
    return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
