"""A team's own DVC repository before it adopts the engine: tests/byop's pipeline with no `release:` section and no
`.gto`, on its own bare origin (not a fork of this repository), for `retrain init`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from tests.byop import DATA
from tests.byop.conftest import make_byop_origin
from tests.helpers import BRANCH, sh

INIT_ARGS = ("init", "--metric", "rmse", "--max-regression", "0.05", "--threshold", "relative")


def make_team_origin(where: Path, make_origin: Callable[[Path], Path] = make_byop_origin) -> Path:
    """A pipeline's origin (tests/byop's unless said), with what only the engine needs taken out in one more commit
    on develop."""
    origin = make_origin(where)
    work = where / "strip"
    sh(["git", "clone", "--quiet", "--branch", BRANCH, str(origin), str(work)], where)
    params = work / "params.yaml"
    params.write_text(re.sub(r"(?ms)^release:.*", "", params.read_text()))
    sh(["git", "rm", "--quiet", ".gto"], work)
    sh(["git", "commit", "--quiet", "-am", "our pipeline, before the release engine"], work)
    sh(["git", "push", "--quiet", "origin", BRANCH], work)
    return origin


def fetch_data(root: Path, bin_dir: Path, env: dict, make: tuple[str, str] = ("stages/fetch.py", DATA)) -> None:
    """The team's data on this machine, in DVC's cache (a member who has it: the bytes its .dvc file records);
    `make`: the script that makes the raw file, and the file."""
    script, data = make
    sh([str(bin_dir / "python"), script, data], root, env)
    sh([str(bin_dir / "dvc"), "add", "--quiet", data], root, env)


def snapshot(root: Path) -> dict[str, str]:
    """path -> sha256 of every file of a work tree but git's own, byte for byte."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts[:1]
    }
