"""The release engine on a project laid out as DVC's get-started project and dvclive lay one out (tests/dvcway/
project), with no engine special case and no edit of its dvc.yaml or code: four stages, dvclive's nested metrics and
JSON plots in the cached folder eval/, top-level `metrics:` and `plots:` (a `template: confusion` on JSON files), a
dataset and a model artifact, one raw file. Real git with a bare origin, real DVC with a local remote (issue 23)."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import yaml

from tests.dvcway import ARTIFACT, DATA, METRICS
from tests.helpers import Project, second_clone

pytestmark = pytest.mark.slow

V1 = f"{ARTIFACT}@v1.0.0"


def last_line(result) -> str:
    return (result.stdout.strip().splitlines() or [""])[-1]


def release(project: Project, *args: str) -> str:
    result = project.retrain("run", *args)
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout
    return last_line(result)


def evaluated(project: Project) -> dict:
    return json.loads((project.root / METRICS).read_text())


def lock_out(project: Project, rev: str, path: str) -> str:
    lock = yaml.safe_load(project.git("show", f"{rev}:dvc.lock"))
    return next(out["md5"] for stage in lock["stages"].values() for out in stage.get("outs", []) if out["path"] == path)


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def tag_metric(project: Project, tag: str) -> str:
    message = project.git("for-each-ref", "--format=%(contents)", f"refs/tags/{tag}")
    return next(line.split(": ", 1)[1] for line in message.splitlines() if line.strip().startswith("avg_prec.test:"))


def test_first_run_releases_and_a_rerun_does_nothing(dvcway: Project) -> None:
    """The metrics file is dvclive's, inside the cached folder eval/ that DVC wrote into .gitignore: the release
    commit holds dvc.lock alone (eval/ is in DVC's cache), the nested metric is named as `dvc metrics show` names
    it in the commit, the tag's lineage and the report; nothing changed, a re-run runs no stage and tags nothing."""
    result = dvcway.retrain("run")

    assert result.returncode == 0, result.stderr
    assert last_line(result) == f"released {V1}"
    assert "ran prepare, featurize, train, evaluate" in result.stderr
    assert dvcway.git("show", "--name-only", "--format=", "HEAD").split() == ["dvc.lock"]
    assert "/eval" in (dvcway.root / ".gitignore").read_text()
    value = evaluated(dvcway)["avg_prec"]["test"]
    assert dvcway.git("log", "-1", "--format=%s").startswith(f"retrain: avg_prec.test {value:.4f}")
    assert tag_metric(dvcway, V1) == str(value)
    report = (dvcway.root / "reports/report.md").read_text()
    assert f"first release: avg_prec.test {value:.4f}" in report and "| roc_auc.train |" in report

    again = dvcway.retrain("run")

    assert again.returncode == 0, again.stderr
    assert last_line(again) == f"up to date: {V1}"
    assert "nothing changed: no stage ran" in again.stderr
    assert list(dvcway.tags()) == [V1]
