"""Fixtures of the third pipeline's tests: DVC's get-started layout (tests/dvcway/project) cloned with its own bare
origin and DVC remote, and a release of it built once per session and copied for each test that needs one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.dvcway import DATA, TEMPLATE
from tests.helpers import VENV_BIN, Project, bare_origin, built_once, clone_project, sh
from tests.helpers.templates import copy_project, load_project, save_project


def make_dvcway_origin(where: Path) -> Path:
    """A bare origin whose `develop` holds the template with its raw file added to DVC, as a team starts."""
    source = where / "dvcway"
    shutil.copytree(TEMPLATE, source, ignore=shutil.ignore_patterns("__pycache__"))
    sh(["git", "init", "--quiet", "--initial-branch", "develop"], source)
    sh([VENV_BIN / "python", "src/generate.py", DATA], source)
    sh([VENV_BIN / "dvc", "add", "--quiet", DATA], source)
    return bare_origin(source, where / "dvcway.git", "a pipeline in DVC's get-started layout")


@pytest.fixture(scope="session")
def dvcway_origin(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    def make(where: Path) -> None:
        make_dvcway_origin(where)
        (where / "template.json").write_text("{}")

    return built_once(tmp_path_factory, worker_id, "dvcway-seed", make) / "dvcway.git"


@pytest.fixture
def dvcway(dvcway_origin: Path, tmp_path: Path) -> Project:
    """A fresh clone of the third pipeline with its own bare origin and local DVC remote; nothing released."""
    return clone_project(dvcway_origin, tmp_path)


@pytest.fixture(scope="session")
def dvcway_template(tmp_path_factory: pytest.TempPathFactory, worker_id: str, dvcway_origin: Path) -> Project:
    """The third pipeline released once as tumor-classifier@v1.0.0 and pushed (origin and the local DVC remote)."""

    def make(where: Path) -> None:
        project = clone_project(dvcway_origin, where)
        result = project.retrain("run", "--push")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        save_project(project, where)

    return load_project(built_once(tmp_path_factory, worker_id, "dvcway-released", make))


@pytest.fixture
def dvcway_released(dvcway_template: Project, tmp_path: Path) -> Project:
    """A copy of the released third pipeline: its origin, work tree (with the DVC cache) and DVC remote."""
    return copy_project(dvcway_template, tmp_path / "released")
