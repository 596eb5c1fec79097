"""docs/adopt.md works as written: its step-by-step block, run in a clone of this repository with the second
pipeline's files beside it, turns the fork into that pipeline and releases it with the engine unchanged."""

from __future__ import annotations

import shutil

import pytest

from tests.byop import TEMPLATE
from tests.helpers import Project, doc_block

pytestmark = pytest.mark.slow


def test_adopt_block_runs_as_written(project: Project) -> None:
    """Every line, in order, in a fresh clone of the digits project; the team's files are in ../my-pipeline."""
    mine = project.root.parent / "my-pipeline"
    mine.mkdir()
    for name in ("stages", "dvc.yaml", "params.yaml"):
        source = TEMPLATE / name
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, mine / name)

    result = project.sh("bash", "-c", "set -euo pipefail\n" + doc_block("docs/adopt.md", "adopt"), check=False)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert "dry run: would commit nothing and tag regressor@v1.0.0" in lines, result.stdout
    assert "released regressor@v1.0.0" in lines and "up to date: regressor@v1.0.0" in lines
    assert any(line.startswith("regressor@v1.0.0 ") for line in lines), result.stdout
    assert not (project.root / "src/pipeline").exists() and (project.root / "src/retrain").is_dir()
    assert '"pipeline"' not in (project.root / "pyproject.toml").read_text()
    assert project.git("status", "--porcelain", "--untracked-files=no") == ""
    assert list(project.tags()) == ["regressor@v1.0.0"]
