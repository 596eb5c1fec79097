"""`retrain ingest SOURCE --release [--push]`: no person in the loop. The deliveries are committed on the current
branch (develop) and the same release as `retrain run --push` follows in the same run; the gate still stops a
worse model, and the data stays recorded (ingested once) whatever the gate says."""

from __future__ import annotations

import pytest

from pipeline.dataset import write_batch
from pipeline.digits import simulate_batch
from retrain import decisions
from tests.helpers import Project
from tests.helpers.consistency import assert_consistent
from tests.helpers.landing import FolderLanding, ingest, report
from tests.helpers.templates import Batch

pytestmark = pytest.mark.slow


def test_release_commits_on_develop_and_releases_in_the_same_run(released: Project, good_batch: Batch, tmp_path):
    landing = FolderLanding(tmp_path / "drops" / "landing")
    landing.put("2025-03-01.csv", good_batch.content)

    run = ingest(released, landing.source, "--release", "--push")

    assert run.returncode == 0, run.describe()
    assert run.lines[-1] == "ingest: 1 ingested; released model@v1.1.0"
    assert released.origin_tags()["model@v1.1.0"] == released.origin_git("rev-parse", "develop")
    subjects = released.origin_git("log", "-2", "--format=%s", "develop").splitlines()
    assert subjects[0].startswith("retrain: +300 rows")
    assert decisions.has_commit_mark(released.origin_git("log", "-1", "--format=%B", "develop"))
    assert subjects[1] == f"data: ingest 1 delivery(ies) from {landing.source}/", "no skip instruction"
    data_commit = released.origin_git("log", "-1", "--skip=1", "--format=%B", "develop")
    assert decisions.has_commit_mark(data_commit), "its push starts no second release"
    assert report(released)["release"] == {
        "status": "released",
        "tag": "model@v1.1.0",
        "message": "released model@v1.1.0",
    }
    assert_consistent(released, released.storage, settled=True)

    again = ingest(released, landing.source, "--release", "--push")

    assert again.returncode == 0, again.describe()
    assert again.lines[-1] == "ingest: nothing new, 1 already ingested; up to date: model@v1.1.0"
    assert set(released.origin_tags()) == {"model@v1.0.0", "model@v1.1.0"}


def test_a_worse_model_is_gated_and_the_data_stays_recorded(released: Project, tmp_path):
    landing = FolderLanding(tmp_path / "drops" / "landing")
    write_batch(simulate_batch(900, 0.7, 5), landing.path / "2025-03-01-noisy.csv")
    develop = released.origin_git("rev-parse", "develop")

    run = ingest(released, landing.source, "--release", "--push")

    assert run.returncode == 3, run.describe()
    assert run.stderr.strip().splitlines()[-1].startswith("error: gated: no tag.")
    assert run.lines[-1].startswith("ingest: 1 ingested; gated: no tag.")
    assert set(released.origin_tags()) == {"model@v1.0.0"}
    assert released.origin_git("rev-parse", "develop^") == develop, "the data commit alone reached develop"
    assert report(released)["release"]["status"] == "gated"
    assert_consistent(released, released.storage)
