"""Fixtures of the bring-your-own-pipeline tests: a second DVC project, unlike the digits example in every way the
engine could depend on (tests/byop/project), cloned with its own bare origin and DVC remote like the digits one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.byop import DATA, TEMPLATE
from tests.helpers import VENV_BIN, Project, bare_origin, clone_project, sh


def make_byop_origin(where: Path) -> Path:
    """A bare origin whose `develop` holds the template with its data file added to DVC, as a team starts."""
    source = where / "byop"
    shutil.copytree(TEMPLATE, source, ignore=shutil.ignore_patterns("__pycache__"))
    sh(["git", "init", "--quiet", "--initial-branch", "develop"], source)
    sh([VENV_BIN / "python", "stages/fetch.py", DATA], source)
    sh([VENV_BIN / "dvc", "add", "--quiet", DATA], source)
    return bare_origin(source, where / "byop.git", "a regression pipeline of our own")


@pytest.fixture(scope="session")
def byop_origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_byop_origin(tmp_path_factory.mktemp("byop-seed"))


@pytest.fixture
def byop(byop_origin: Path, tmp_path: Path) -> Project:
    """A fresh clone of the second pipeline with its own bare origin and local DVC remote; nothing released."""
    return clone_project(byop_origin, tmp_path)
