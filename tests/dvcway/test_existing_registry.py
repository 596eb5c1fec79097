"""Issue 23, stop 5: adopting a repository that already has GTO releases of its own, made before the engine, whose
metrics live in DVC's cache (dvclive's eval/, a cached output), with the raw file under another layout then. The old
engine said "first release" and compared with nothing (it read metrics from git only), and its append-only check
refused a raw file the old release kept elsewhere."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from tests.dvcway import ARTIFACT, DATA, METRICS
from tests.helpers import VENV_BIN, Project

pytestmark = pytest.mark.slow

OLD = f"{ARTIFACT}@v1.0.0"


def registered_by_hand(project: Project) -> float:
    """The team's own release, before the engine: the raw file at raw.xml, `dvc repro`, commit, `dvc push`,
    `gto register`. Then the raw file moves to data/data.xml (the layout of today), committed. Returns the
    release's avg_prec.test."""
    dvc_yaml = (project.root / "dvc.yaml").read_text()
    project.sh(str(VENV_BIN / "python"), "src/generate.py", DATA)  # a fresh clone: the raw file as its seed makes it
    project.dvc("remove", f"{DATA}.dvc")
    shutil.move(project.root / DATA, project.root / "raw.xml")
    (project.root / "dvc.yaml").write_text(dvc_yaml.replace(DATA, "raw.xml"))
    project.dvc("add", "raw.xml")
    project.dvc("repro")
    project.git("add", "--all")
    project.git("commit", "--quiet", "-m", "our pipeline, its raw file at the root")
    project.dvc("push")
    project.sh(str(VENV_BIN / "gto"), "register", ARTIFACT, "HEAD", "--version", "v1.0.0")
    released = json.loads((project.root / METRICS).read_text())["avg_prec"]["test"]
    project.dvc("remove", "raw.xml.dvc")
    shutil.move(project.root / "raw.xml", project.root / DATA)
    (project.root / "dvc.yaml").write_text(dvc_yaml)
    project.dvc("add", DATA)
    project.set_param("featurize", "max_features", 10, commit=False)
    project.git("add", "--all")
    project.git("commit", "--quiet", "-m", "raw data under data/, more features")
    return released


def objects_of_eval(project: Project, rev: str) -> list[str]:
    """The md5 of eval/'s manifest at `rev`, and of every file in it (read from the local cache)."""
    lock = yaml.safe_load(project.git("show", f"{rev}:dvc.lock"))
    manifest = next(out["md5"] for stage in lock["stages"].values() for out in stage["outs"] if out["path"] == "eval")
    cached = project.root / ".dvc/cache/files/md5" / manifest[:2] / manifest[2:]
    return [manifest, *(entry["md5"] for entry in json.loads(cached.read_text()))]


def test_the_gate_compares_with_a_release_whose_metrics_are_in_dvc(dvcway: Project) -> None:
    released = registered_by_hand(dvcway)

    result = dvcway.retrain("run")

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == f"released {ARTIFACT}@v1.1.0"  # after v1.0.0, new data: minor
    now = json.loads((dvcway.root / METRICS).read_text())["avg_prec"]["test"]
    assert f"gate passed: avg_prec.test {now:.4f} vs {released:.4f} in the latest release" in result.stderr
    assert "first release" not in result.stderr
    assert f"{OLD} has no raw data at {DATA} (its layout was different)" in result.stderr


def test_unreadable_metrics_of_the_release_are_said_never_a_silent_first_release(dvcway: Project) -> None:
    """The release's eval/ is gone from the local cache and from the remote: one line names the release and why,
    and the gate's verdict in the report says it compares with no release because of that."""
    registered_by_hand(dvcway)
    for oid in objects_of_eval(dvcway, OLD):
        for store in (dvcway.root / ".dvc/cache", dvcway.storage):
            (store / "files/md5" / oid[:2] / oid[2:]).unlink(missing_ok=True)

    result = dvcway.retrain("run", "--dry-run")

    assert result.returncode == 0, result.stderr[-3000:]
    said = [line for line in result.stderr.splitlines() if f"the gate cannot read the metrics of {OLD}" in line]
    assert len(said) == 1 and "it compares with no release" in said[0], result.stderr[-3000:]
    report = (dvcway.root / "reports/report.md").read_text()
    assert f"no release to compare with ({OLD} (not in git, and DVC could not read it" in report
    assert f"The metrics of `{OLD}` could not be read" in report
    assert "first release" not in report + result.stdout + result.stderr
