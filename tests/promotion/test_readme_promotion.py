"""The README's "Which model is in production" block works as written, in a project with releases on origin."""

from __future__ import annotations

import hashlib
import re

import pytest
import yaml

from tests.helpers import Project, doc_block

pytestmark = pytest.mark.slow


def test_readme_promotion_block_runs_as_written(released: Project) -> None:
    """Every line, in order, in a clone whose origin holds model@v1.0.0, v1.1.0 and v1.1.1; each must succeed."""
    result = released.sh("bash", "-c", "set -euo pipefail\n" + doc_block("README.md", "promotion"), check=False)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "promoted model@v1.0.0 to prod (tag model#prod#1, pushed to origin)" in out
    assert "promoted model@v1.1.0 to prod" in out and "before: model@v1.0.0" in out
    assert re.search(r"^v1\.1\.0$", out, re.M) and re.search(r"^model@v1\.1\.0$", out, re.M)
    assert "rolled back prod from model@v1.1.0 to model@v1.0.0" in out
    assert re.search(r"^model@v1\.0\.0 .* prod since ", out, re.M), out
    assert "published model@v1.0.0 for prod to ../serving/prod/: current.json -> v1.0.0/" in out
    lock = yaml.safe_load(released.git("show", "model@v1.1.0:dvc.lock"))
    v110 = next(out["md5"] for out in lock["stages"]["train"]["outs"] if out["path"] == "models/model.joblib")
    served = (released.root / "prod-model.joblib").read_bytes()
    assert hashlib.md5(served, usedforsecurity=False).hexdigest() == v110, "dvc artifacts get fetched prod's model"
    assert (released.root.parent / "serving/prod/v1.0.0/model-card.json").is_file()
    assert released.git("status", "--porcelain", "--untracked-files=no") == ""
    assert released.tags().keys() >= {"model#prod#1", "model#prod!#2", "model#prod#3", "model#prod!#4", "model#prod#5"}
