"""The README's commands work as written."""

from __future__ import annotations

import pytest

from tests.helpers import REPO_ROOT, Project, doc_block


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
