"""`retrain X` lives in retrain/commands/X.py (`migrate-data` in migrate_data.py), as in DVC's dvc/commands/.

Each module holds `add(commands)`, its sub-parser (options, defaults, help), whose defaults carry `call(root, args)`,
the thin call into the engine: the engine is imported inside `call` only, so that parsing a command line imports
no DVC, GTO or pandas. retrain.cli lists the modules, parses, and maps errors to exit codes.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Any, ClassVar, Protocol, TypeAlias, TypeVar

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class _Dataclass(Protocol):
    __dataclass_fields__: ClassVar[dict[str, Any]]


Options = TypeVar("Options", bound=_Dataclass)

REMOTE_ENV = "RETRAIN_REMOTE"


def remote_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--remote",
        default=os.environ.get(REMOTE_ENV),
        help=f"DVC remote to use (default: ${REMOTE_ENV}, else .dvc/config's default `local`)",
    )


def options(cls: type[Options], args: argparse.Namespace) -> Options:
    """The engine's options (a dataclass) from the parsed command line: each field the command line has, by name;
    the others keep their defaults."""
    given = vars(args)
    return cls(**{field.name: given[field.name] for field in dataclasses.fields(cls) if field.name in given})


def env_remote_arg(parser: argparse.ArgumentParser, flag: str, env: str, text: str) -> None:
    parser.add_argument(flag, metavar="REMOTE", default=os.environ.get(env) or None, help=text)
