"""DVC's own Python API, called in the test process for the set-up steps a test is not about: `dvc add` of a
delivery and `dvc remote modify --local`. Each function makes the call DVC's command line makes for that command
(dvc/commands/add.py, dvc/commands/remote.py), in the project's folder as the command line runs, without starting
a DVC process: at every test's set-up that start-up was a large share of the suite's time. The README's tests, the
engine and the stages still run DVC's command line."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import chdir, contextmanager
from pathlib import Path


@contextmanager
def _in(root: Path) -> Iterator[None]:
    """In `root`, as the command line runs; DVC's own deprecation warnings (from its dependencies) are not the
    test's to report."""
    with chdir(root), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def add(root: Path, *paths: str) -> None:
    """`dvc add PATHS` in `root` (paths relative to it): the .dvc files, the cache and .gitignore, and with
    core.autostage the files staged, as the command line leaves them."""
    from dvc.repo import Repo

    with _in(root), Repo(str(root)) as repo:
        repo.add(list(paths))


def modify_remote(root: Path, name: str, option: str, value: str) -> None:
    """`dvc remote modify --local NAME OPTION VALUE` in `root`: the remote must exist at some level, as the
    command line requires."""
    from dvc.config import Config, RemoteNotFoundError, merge

    with _in(root):
        config = Config.from_cwd(validate=False)
        with config.edit("local") as local:
            merged = config.load_config_to_level("local")
            merge(merged, local)
            if name not in merged["remote"]:
                raise RemoteNotFoundError(f"remote '{name}' doesn't exist.")
            local["remote"].setdefault(name, {})[option] = value


def local_option(root: Path, name: str, option: str) -> str | None:
    """`dvc config --local remote.NAME.OPTION`: the value .dvc/config.local gives, if any."""
    from dvc.config import Config

    with _in(root):
        return Config.from_cwd(validate=False).load_one("local").get("remote", {}).get(name, {}).get(option)
