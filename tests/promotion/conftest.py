"""Fixtures of the promotion tests: one project with three releases, built once per test session and copied for
each test (a copy costs milliseconds, a release a training run).

The template is a copy of the session's released template (model@v1.0.0, the seed batch, tests/helpers/templates.py)
released twice more with `--push` on the local DVC remote: model@v1.1.0 (a delivered batch) and model@v1.1.1
(train.C changed). Under xdist the workers share it (built by the first that needs it, under a file lock).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Project
from tests.helpers.harness import retrain
from tests.helpers.templates import Template, copy_clone, copy_project, derived

RELEASES = ("model@v1.0.0", "model@v1.1.0", "model@v1.1.1")


def _release(project: Project, expected: str) -> None:
    result = retrain(project, "run", "--push")
    assert result.returncode == 0 and result.last_stdout == f"released {expected}", result.describe()


def _build(project: Project) -> None:
    project.add_batch(rows=300, seed=5)
    _release(project, RELEASES[1])
    project.set_param("train", "C", 0.5)
    _release(project, RELEASES[2])
    assert project.git("status", "--porcelain", "--untracked-files=no") == ""


@pytest.fixture(scope="session")
def three_releases(template: Template, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Project:
    return derived(tmp_path_factory, worker_id, "promotion-template", template.project, _build)


@pytest.fixture
def released(three_releases: Project, tmp_path: Path) -> Project:
    """A project of one's own with model@v1.0.0, v1.1.0 and v1.1.1 on its origin and local DVC remote."""
    return copy_project(three_releases, tmp_path / "project")


@pytest.fixture
def colleague(three_releases: Project, released: Project, tmp_path: Path) -> Project:
    """Another clone of `released`'s origin and DVC remote."""
    return copy_clone(three_releases, released, tmp_path / "colleague")
