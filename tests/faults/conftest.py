"""Fixtures of the fault suite: one released project, built once per test session, copied for each test.

Building a release costs a training run; copying one costs milliseconds. The template is a clone of the
seed origin released as model@v1.0.0 with `--push` on the local DVC remote. Its DVC run-cache (local and
pushed) also holds the pipeline runs of the deliveries and params the tests make next, so that a re-run after
a fault is restored from the run-cache instead of training again: `good_batch` (300 rows), `other_batch`
(300 rows, delivered on another clone), and both together.

Under xdist the workers share one template (built by the first that needs it, under a file lock).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.harness import ControlledS3, copy_project, retrain
from tests.helpers import S3_ENV, Project, built_once, clone_project


@dataclass(frozen=True)
class Batch:
    name: str
    content: bytes


@dataclass(frozen=True)
class Template:
    project: Project
    good: Batch  # a valid delivery whose pipeline run is in the run-cache
    other: Batch  # another clone's delivery, also in the run-cache, alone and with `good`


def _build(seed_origin: Path, where: Path) -> None:
    project = clone_project(seed_origin, where)
    first = retrain(project, "run", "--push")
    assert first.returncode == 0, first.describe()
    raw = project.root / "data" / "raw"
    made = {}
    for seed in (3, 22):
        path = project.add_batch(rows=300, seed=seed, commit=False)
        made[path.name] = path.read_bytes()
        path.unlink()
        (raw / f"{path.name}.dvc").unlink()
    good, other = (Batch(name, content) for name, content in made.items())
    for files in ({good.name: good.content}, {other.name: other.content}, made):
        for name, content in files.items():
            (raw / name).write_bytes(content)
        project.dvc("add", *(f"data/raw/{name}" for name in files))
        project.dvc("repro")  # fills the run-cache
        project.git("reset", "--quiet", "--hard", "HEAD")
        for name in files:
            (raw / name).unlink()
            (raw / f"{name}.dvc").unlink(missing_ok=True)  # core.autostage staged it: the reset removed it
    project.dvc("checkout", "--force")
    project.dvc("push", "--run-cache")
    assert project.git("status", "--porcelain", "--untracked-files=no") == ""
    (where / "template.json").write_text(
        json.dumps(
            {
                "root": str(project.root),
                "origin": str(project.origin),
                "storage": str(project.storage),
                "env": project.env,
                "good": good.name,
                "other": other.name,
            }
        )
    )
    (where / "good.csv").write_bytes(good.content)
    (where / "other.csv").write_bytes(other.content)


def _load(where: Path) -> Template:
    saved = json.loads((where / "template.json").read_text())
    project = Project(Path(saved["root"]), Path(saved["origin"]), Path(saved["storage"]), saved["env"])
    return Template(
        project,
        Batch(saved["good"], (where / "good.csv").read_bytes()),
        Batch(saved["other"], (where / "other.csv").read_bytes()),
    )


@pytest.fixture(scope="session")
def template(seed_origin: Path, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Template:
    where = built_once(tmp_path_factory, worker_id, "faults-template", lambda where: _build(seed_origin, where))
    return _load(where)


@pytest.fixture
def released(template: Template, tmp_path: Path) -> Project:
    """A project released as model@v1.0.0 (pushed to its own origin and local remote), ready to break."""
    return copy_project(template.project, tmp_path / "project")


@pytest.fixture
def good_batch(template: Template) -> Batch:
    return template.good


@pytest.fixture
def other_batch(template: Template) -> Batch:
    return template.other


@pytest.fixture
def s3_released(released: Project, s3) -> Project:
    """The released project on `s3remote` (moto), its release's objects uploaded to the bucket."""
    point_at_s3(released, s3.endpoint)
    released.dvc("push", "-r", "s3remote")
    return released


def point_at_s3(project: Project, endpoint: str) -> None:
    project.dvc("remote", "modify", "--local", "s3remote", "endpointurl", endpoint)
    project.env.update(S3_ENV)
    project.env["RETRAIN_REMOTE"] = "s3remote"
    # No credentials from the host machine may leak in (a test removes the keys to see them missing).
    empty = project.root.parent / "aws-config-empty"
    empty.touch()
    project.env["AWS_SHARED_CREDENTIALS_FILE"] = str(empty)
    project.env["AWS_CONFIG_FILE"] = str(empty)
    project.env["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture
def own_s3(s3) -> Iterator[ControlledS3]:
    """A moto S3 endpoint of this test's own (same bucket and objects as `s3`), which the test may stop."""
    server = ControlledS3().start()
    try:
        yield server
    finally:
        server.stop()
