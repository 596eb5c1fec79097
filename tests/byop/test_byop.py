"""The release engine on a pipeline of one's own (tests/byop/project), with no engine change: a regression on
scikit-learn's diabetes data, RMSE (lower is better), one tracked data file, two stages named `split` and `fit`,
an artifact named `regressor`, and a `release:` section that leaves the metrics file, the raw data and the
artifact to dvc.yaml. Real git with a bare origin, real DVC, moto for S3."""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml

from tests.byop import DATA
from tests.conftest import S3, on_s3
from tests.helpers import Project, last_line, release

pytestmark = pytest.mark.slow

WORSE_ALPHA, BETTER_ALPHA = 50, 0.05  # RMSE 56.89 at the template's alpha 1.0; 75.55 and 53.93 with these


def lock_out(project: Project, rev: str, path: str) -> str:
    lock = yaml.safe_load(project.git("show", f"{rev}:dvc.lock"))
    return next(out["md5"] for stage in lock["stages"].values() for out in stage.get("outs", []) if out["path"] == path)


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def tracked_md5(project: Project) -> str:
    """The data file's md5 as its committed .dvc file records it."""
    return yaml.safe_load((project.root / f"{DATA}.dvc").read_text())["outs"][0]["md5"]


def test_first_run_releases_and_a_rerun_does_nothing(byop: Project) -> None:
    """`retrain run` tags the artifact dvc.yaml declares; the release commit holds dvc.lock and the metrics file;
    the tag's lineage names the data file's hash; nothing changed, a re-run runs no stage and tags nothing."""
    result = byop.retrain("run")

    assert result.returncode == 0, result.stderr
    assert last_line(result) == "released regressor@v1.0.0"
    assert "ran split, fit" in result.stderr
    assert byop.git("show", "--name-only", "--format=", "HEAD").split() == ["dvc.lock", "metrics/scores.json"]
    assert byop.git("log", "-1", "--format=%s").startswith("retrain: rmse 56.8867, mae ")
    data_md5 = tracked_md5(byop)
    message = byop.git("for-each-ref", "--format=%(contents)", "refs/tags/regressor@v1.0.0")
    assert f"data: {data_md5}\n" in message and "rmse: 56.8867" in message and "fit.alpha: 1.0" in message
    report = (byop.root / "reports/report.md").read_text()
    assert "| rmse | – | 56.8867 | new |" in report and "first release: rmse 56.8867" in report
    assert "### Data" not in report  # this project keeps no data statistics: nothing is made up

    again = byop.retrain("run")

    assert again.returncode == 0, again.stderr
    assert last_line(again) == "up to date: regressor@v1.0.0"
    assert "nothing changed: no stage ran" in again.stderr
    assert list(byop.tags()) == ["regressor@v1.0.0"]


def test_a_worse_model_is_gated_and_a_better_one_released(byop: Project) -> None:
    """RMSE is lower-is-better: a rise beyond 5% of the release's RMSE exits 3 with no tag; a fall is released
    (params only: a patch)."""
    assert release(byop) == "released regressor@v1.0.0"
    byop.set_param("fit", "alpha", WORSE_ALPHA)

    gated = byop.retrain("run")

    assert gated.returncode == 3, gated.stderr
    said = gated.stderr.strip().splitlines()[-1]
    assert "gated" in said and "rmse 75.5480 vs 56.8867" in said and "largest rise allowed 2.8443" in said
    assert list(byop.tags()) == ["regressor@v1.0.0"]
    assert byop.run_summary()["status"] == "gated"

    byop.set_param("fit", "alpha", BETTER_ALPHA)

    assert release(byop) == "released regressor@v1.0.1"
    assert "gate passed: rmse 53.9322 vs 56.8867" in (byop.root / "reports/report.md").read_text()


def test_a_refreshed_data_file_is_a_minor_release(byop: Project) -> None:
    """The single data file is replaced (release.append_only: false): a data change, so the minor version moves."""
    assert release(byop) == "released regressor@v1.0.0"
    path = byop.root / DATA
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-20]))  # a refresh without the last 20 rows
    byop.dvc("add", "--quiet", DATA)
    byop.git("commit", "--quiet", "-am", "data: refreshed diabetes.csv")

    assert release(byop) == "released regressor@v1.1.0"
    assert byop.raw_objects() == {}  # no batch folder: the helper for the digits layout sees nothing
    assert tracked_md5(byop) == md5(path.read_bytes())
    assert byop.git("show", f"regressor@v1.1.0:{DATA}.dvc") == (byop.root / f"{DATA}.dvc").read_text().strip()


def test_releases_report_and_restore(byop: Project) -> None:
    """`retrain releases` shows RMSE, `report --base` compares with a release, `restore` brings one back."""
    release(byop)
    byop.set_param("fit", "alpha", BETTER_ALPHA)
    release(byop)

    listed = byop.retrain("releases")
    assert listed.returncode == 0, listed.stderr
    header, newest, oldest = listed.stdout.splitlines()
    assert header.split()[:7] == ["tag", "date", "rows", "rmse", "mae", "r2", "commit"]
    assert newest.startswith("regressor@v1.0.1") and " 53.9322 " in newest and " – " in newest  # no row count
    assert oldest.startswith("regressor@v1.0.0") and " 56.8867 " in oldest
    as_json = json.loads(byop.retrain("releases", "--json", check=True).stdout)
    newest_json = as_json["releases"][0]
    assert newest_json["metrics"]["rmse"] == 53.9322 and newest_json["rows"] is None

    report = byop.retrain("report", "--base", "regressor@v1.0.0")
    assert report.returncode == 0, report.stderr
    text = (byop.root / "reports/report.md").read_text()
    assert "| rmse | 56.8867 | 53.9322 | -2.9545 |" in text and "| fit.alpha | 1.0 | 0.05 |" in text

    model = byop.retrain("restore", "regressor@v1.0.0", "--only", "model")
    assert model.returncode == 0, model.stderr
    restored = (byop.root / "models/regressor.joblib").read_bytes()
    assert md5(restored) == lock_out(byop, "regressor@v1.0.0", "models/regressor.joblib")
    byop.git("checkout", "--quiet", "--", ".")  # the restored model is a local change: put HEAD's back
    byop.dvc("checkout", "--quiet")

    whole = byop.retrain("restore", "regressor@v1.0.0")
    assert whole.returncode == 0, whole.stderr
    assert "restored regressor@v1.0.0 whole: code, 1 raw file(s)" in whole.stdout
    assert byop.git("rev-parse", "HEAD") == byop.tags()["regressor@v1.0.0"]
    assert md5((byop.root / DATA).read_bytes()) == tracked_md5(byop)


def test_promotion_and_rollback_use_the_projects_own_stages(byop: Project) -> None:
    """`.gto` of this project allows staging and prod: promote two versions in turn, ask which one prod holds,
    roll back to the first."""
    release(byop, "--push")
    byop.set_param("fit", "alpha", BETTER_ALPHA)
    assert release(byop, "--push") == "released regressor@v1.0.1"

    for version in ("v1.0.0", "v1.0.1"):
        promoted = byop.retrain("promote", version, "--stage", "prod")
        assert promoted.returncode == 0, promoted.stderr
        assert f"promoted regressor@{version} to prod" in promoted.stdout
    assert byop.retrain("which", "--stage", "prod").stdout.strip() == "v1.0.1"

    rolled = byop.retrain("rollback", "--stage", "prod")

    assert rolled.returncode == 0, rolled.stderr
    assert "rolled back prod from regressor@v1.0.1 to regressor@v1.0.0" in rolled.stdout
    which = byop.retrain("which", "--stage", "prod")
    assert which.returncode == 0 and which.stdout.strip() == "v1.0.0", which.stderr
    assert {"regressor#prod#1", "regressor#prod#3", "regressor#prod#5"} <= set(byop.origin_tags())


def test_release_on_s3_pushes_the_data_file_and_model(byop: Project, s3: S3) -> None:
    """On moto's S3: the data file and the model are in the bucket, the tag on origin."""
    on_s3(byop, s3)

    assert release(byop, "--push") == "released regressor@v1.0.0"

    keys = set(s3.keys("diabetes/files/md5/"))
    data_md5 = tracked_md5(byop)
    model_md5 = lock_out(byop, "HEAD", "models/regressor.joblib")
    assert {f"diabetes/files/md5/{oid[:2]}/{oid[2:]}" for oid in (data_md5, model_md5)} <= keys
    assert "regressor@v1.0.0" in byop.origin_tags()


def test_the_first_release_commits_the_rules_dvc_writes_for_its_outputs(byop: Project) -> None:
    """A team whose output folder has no committed .gitignore yet (they never ran `dvc repro` and committed its
    rules): DVC writes `/regressor.joblib` into models/.gitignore while it caches the model. The release commits that
    rule with dvc.lock, so a clone of the release does not list the model as an untracked file, and the next run is
    up to date instead of refusing the rule as an uncommitted change. A person's own edit of that file is still
    theirs: refused, named, never committed by a release."""
    byop.git("rm", "--quiet", "models/.gitignore")
    byop.git("commit", "--quiet", "-m", "outputs: no ignore rules committed yet")

    first = byop.retrain("run", "--push")

    assert first.returncode == 0, first.stderr
    assert byop.git("show", "--name-only", "--format=", "HEAD").split() == [
        "dvc.lock",
        "metrics/scores.json",
        "models/.gitignore",
    ]
    assert byop.git("status", "--porcelain") == ""
    assert byop.origin_git("show", "develop:models/.gitignore").splitlines() == ["/regressor.joblib"]
    again = byop.retrain("run", "--push")
    assert again.returncode == 0, again.stderr
    assert last_line(again) == "up to date: regressor@v1.0.0"

    with (byop.root / "models/.gitignore").open("a") as rules:
        rules.write("*.tmp\n")
    edited = byop.retrain("run")
    assert edited.returncode == 2, edited.stderr
    assert "uncommitted changes to models/.gitignore" in edited.stderr.strip().splitlines()[-1]
