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

from tests.dvcway import ARTIFACT, METRICS
from tests.helpers import Project, last_line, release, second_clone

pytestmark = pytest.mark.slow

V1 = f"{ARTIFACT}@v1.0.0"


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
    # dvclive's JSON plots, read through DVC's plot parser: both confusion files, the ROC and precision-recall lines
    assert "### Confusion matrix: `eval/plots/sklearn/cm/train.json`" in report and "| predicted \\ actual |" in report
    assert "Not shown" not in report
    shown = ["confusion.png", "confusion-2.png", "plot-1.png", "plot-2.png"]
    assert all((dvcway.root / "reports" / name).stat().st_size > 0 for name in shown)
    assert f"Plots ({', '.join(f'`{name}`' for name in shown)})" in report

    again = dvcway.retrain("run")

    assert again.returncode == 0, again.stderr
    assert last_line(again) == f"up to date: {V1}"
    assert "nothing changed: no stage ran" in again.stderr
    assert list(dvcway.tags()) == [V1]


def test_a_worse_model_is_gated_and_a_better_one_released(dvcway_released: Project) -> None:
    """avg_prec.test is higher-is-better: one tree splitting little loses more than 0.02 and exits 3 with no tag; the
    gate reads the release's metrics through DVC (they are in its cache, not in git). More features do better: a
    params change, a patch release."""
    project = dvcway_released
    released = float(tag_metric(project, V1))
    project.set_param("train", "n_est", 1, commit=False)
    project.set_param("train", "min_split", 0.5)

    gated = project.retrain("run")

    assert gated.returncode == 3, gated.stderr
    worse = evaluated(project)["avg_prec"]["test"]
    said = gated.stderr.strip().splitlines()[-1]
    assert "gated" in said and f"avg_prec.test {worse:.4f} vs {released:.4f} in the latest release" in said
    assert list(project.tags()) == [V1]
    assert project.run_summary()["status"] == "gated"

    project.set_param("train", "n_est", 20, commit=False)
    project.set_param("train", "min_split", 0.05, commit=False)
    project.set_param("featurize", "max_features", 10)
    assert release(project) == f"released {ARTIFACT}@v1.0.1"
    better = evaluated(project)["avg_prec"]["test"]
    report = (project.root / "reports/report.md").read_text()
    assert f"gate passed: avg_prec.test {better:.4f} vs {released:.4f}" in report


def test_a_fresh_clone_reads_the_release_metrics_from_the_remote(dvcway_released: Project, tmp_path) -> None:
    """Stop 1 on a machine with an empty DVC cache (a CI runner): the release's eval/metrics.json is in no git tree
    and in no local cache; the gate fetches that one file from the remote, never says "first release"."""
    other = second_clone(dvcway_released, tmp_path)
    released = float(tag_metric(other, V1))
    cache = other.root / ".dvc" / "cache"
    assert not cache.exists()

    listed = other.retrain("releases", "--json")

    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["releases"][0]["metrics"]["avg_prec.test"] == pytest.approx(released)
    fetched = {path.name for path in cache.rglob("*") if path.is_file()}
    model = lock_out(other, V1, "model.pkl")
    assert lock_out(other, V1, "eval").removesuffix(".dir")[2:] + ".dir" in fetched and model[2:] not in fetched

    other.set_param("featurize", "max_features", 10)

    assert release(other) == f"released {ARTIFACT}@v1.0.1"

    report = (other.root / "reports/report.md").read_text()
    assert f"vs {released:.4f} in the latest release" in report and "first release" not in report


def test_releases_report_restore_and_promote(dvcway_released: Project) -> None:
    """`releases` shows dvclive's nested names and values; `report --base` compares them with the release; `restore`
    brings back the release's model and eval/; `promote` uses the project's own stages."""
    project = dvcway_released
    project.set_param("featurize", "max_features", 10)
    assert release(project, "--push") == f"released {ARTIFACT}@v1.0.1"
    newer = evaluated(project)

    listed = project.retrain("releases")
    assert listed.returncode == 0, listed.stderr
    header, newest, oldest = listed.stdout.splitlines()[:3]
    assert header.split()[:6] == ["tag", "date", "rows", "avg_prec.test", "avg_prec.train", "roc_auc.train"]
    assert newest.startswith(f"{ARTIFACT}@v1.0.1") and f" {newer['avg_prec']['test']:.4f} " in newest
    assert oldest.startswith(V1) and f" {float(tag_metric(project, V1)):.4f} " in oldest
    as_json = json.loads(project.retrain("releases", "--json", check=True).stdout)
    assert as_json["releases"][0]["metrics"]["roc_auc.test"] == pytest.approx(newer["roc_auc"]["test"])

    report = project.retrain("report", "--base", V1)
    assert report.returncode == 0, report.stderr
    text = (project.root / "reports/report.md").read_text()
    assert f"| avg_prec.test | {float(tag_metric(project, V1)):.4f} | {newer['avg_prec']['test']:.4f} |" in text
    assert "| featurize.max_features | 3 | 10 |" in text

    model = project.retrain("restore", V1, "--only", "model")
    assert model.returncode == 0, model.stderr
    assert md5((project.root / "model.pkl").read_bytes()) == lock_out(project, V1, "model.pkl")
    shutil.rmtree(project.root / ".dvc" / "cache")
    whole = project.retrain("restore", V1)
    assert whole.returncode == 0, whole.stderr
    assert project.git("rev-parse", "HEAD") == project.tags()[V1]
    assert evaluated(project)["avg_prec"]["test"] == pytest.approx(float(tag_metric(project, V1)))

    for version in ("v1.0.0", "v1.0.1"):
        promoted = project.retrain("promote", version, "--stage", "prod")
        assert promoted.returncode == 0, promoted.stderr
    assert project.retrain("which", "--stage", "prod").stdout.strip() == "v1.0.1"
