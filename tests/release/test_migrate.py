"""`retrain migrate-data`: a repository with one data/raw.dvc for the whole folder moves to one .dvc file per batch
in one commit, with nothing uploaded, and releases as before."""

from __future__ import annotations

import pytest

from retrain.rawdata import GITIGNORE_TEXT
from tests.helpers import Project

pytestmark = pytest.mark.slow


def to_old_layout(project: Project) -> dict[str, str]:
    """The layout before per-batch files: `dvc add data/raw` of the whole folder, committed."""
    batches = project.raw_objects()
    project.git("rm", "--quiet", "-r", "--cached", "data/raw")
    for path in (project.root / "data/raw").glob("*.dvc"):
        path.unlink()
    (project.root / "data/raw/.gitignore").unlink()
    project.dvc("add", "data/raw")
    project.git("add", "data/raw.dvc", "data/.gitignore")
    project.git("commit", "--quiet", "-m", "data: the old layout")
    return batches


def test_migrate_data_makes_one_dvc_file_per_batch_in_one_commit(project: Project) -> None:
    assert project.retrain("run").returncode == 0
    project.add_batch(rows=150, seed=3)
    batches = to_old_layout(project)
    before = project.git("rev-parse", "HEAD")

    result = project.retrain("migrate-data")

    assert result.returncode == 0, result.stderr
    assert "migrated 2 batch(es)" in result.stdout
    assert project.git("rev-parse", "HEAD~1") == before  # one commit
    assert not (project.root / "data/raw.dvc").exists()
    assert project.raw_objects() == batches  # the same objects: nothing to upload
    assert (project.root / "data/raw/.gitignore").read_text() == GITIGNORE_TEXT
    assert "/raw" not in (project.root / "data/.gitignore").read_text()
    assert project.git("status", "--porcelain") == ""
    assert project.retrain("migrate-data").stdout.startswith("nothing to migrate")
    run = project.retrain("run")
    assert run.returncode == 0, run.stderr
