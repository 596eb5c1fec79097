"""The README's commands work as written."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, VENV_BIN, Project, doc_block


@pytest.mark.slow
def test_readme_workflow_runs_as_written(project: Project) -> None:
    """Every line of the README's workflow block, in order, in a fresh clone; each must succeed."""
    script = "set -euo pipefail\n" + doc_block("README.md", "workflow")
    result = project.sh("bash", "-c", script, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "model@v1.0.0" in result.stdout and "model@v1.1.0" in result.stdout
    assert project.git("status", "--porcelain", "--untracked-files=no") == ""


def test_readme_shows_the_two_commands_first() -> None:
    text = (REPO_ROOT / "README.md").read_text()
    first_block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    assert first_block.startswith("make retrain") and "make test" in first_block


def without_the_venv(project: Project) -> dict[str, str]:
    """The project's environment as a new shell has it: the venv's bin is not on PATH."""
    env = dict(project.env)
    env["PATH"] = os.pathsep.join(part for part in env["PATH"].split(os.pathsep) if Path(part) != VENV_BIN)
    env.pop("VIRTUAL_ENV", None)
    return env


@pytest.mark.slow  # a released project: the session's template is a release
def test_activating_the_venv_puts_retrain_on_path(released: Project) -> None:
    """After `make retrain` a newcomer's shell has no `retrain`; the README's activate block gives it (the project's
    `.venv` is this repository's, linked in)."""
    (released.root / ".venv").symlink_to(VENV_BIN.parent)
    env = without_the_venv(released)
    bare = subprocess.run(["bash", "-c", "command -v retrain"], cwd=released.root, env=env, capture_output=True)
    assert bare.returncode != 0, "the control: retrain must not be on PATH before activating"
    script = "set -euo pipefail\n" + doc_block("README.md", "activate")
    result = subprocess.run(["bash", "-c", script], cwd=released.root, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "v1.0.0" in result.stdout


@pytest.mark.slow  # a released project: the session's template is a release
def test_the_seeds_own_commands_run_as_typed(released: Project) -> None:
    """`python src/preprocessing.py data/data.csv` then `python src/train.py data`, from the README's block."""
    result = released.sh("bash", "-c", "set -euo pipefail\n" + doc_block("README.md", "seed"), check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = released.root / "data"
    assert all((data / name).stat().st_size > 0 for name in ("train.parquet", "test.parquet", "model.joblib"))
    assert released.git("status", "--porcelain") == "", "the seed's outputs are ignored, nothing is left to commit"


@pytest.mark.slow  # a released project: the session's template is a release
def test_the_seeds_command_on_a_missing_csv_says_where_the_data_is(released: Project) -> None:
    result = released.sh("python", "src/preprocessing.py", "data/nothing.csv", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "error: data/nothing.csv: no such file; this project's data is the batches in data/raw/ "
        "(`make retrain` fetches them)."
    )
