"""A worse model is gated (exit 3, no tag); a restore of a release whose data the remote lost is refused
before anything in the workspace changes."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.helpers import Project
from tests.helpers.consistency import LocalStore, assert_consistent
from tests.helpers.harness import assert_failed, assert_finishes, deliver, repo_state, retrain, snapshot
from tests.helpers.templates import Batch, Template, copy_clone

pytestmark = pytest.mark.faults


def test_label_noise_is_gated_without_a_tag(released: Project) -> None:
    """A delivery with 60% wrong labels: exit 3, the last line gives both accuracies; no tag here or on
    origin; removing the delivery lets the next run finish."""
    noisy = released.add_batch(rows=6000, label_noise=0.6, seed=5)
    before = repo_state(released)

    result = retrain(released, "run", "--push")

    last = assert_failed(result, 3, "gated", "no tag")
    new, old = map(float, re.search(r"accuracy (\d\.\d+) vs (\d\.\d+)", last).groups())
    assert new < old - 0.02, last
    after = repo_state(released)
    assert after["tags"] == before["tags"] and after["origin_tags"] == before["origin_tags"]
    assert after["origin_develop"] == before["origin_develop"], "a gated release reached origin"
    assert "gate failed" in (released.root / "reports/report.md").read_text()
    assert released.run_summary()["status"] == "gated"
    assert_consistent(released, released.storage)

    noisy.unlink()
    released.git("rm", "--quiet", f"data/raw/{noisy.name}.dvc")
    released.git("commit", "--quiet", "-m", "data: withdraw the noisy delivery")
    assert_finishes(released, released.storage, "up to date: model@v1.0.0")


def test_restore_of_a_tag_whose_data_is_gone(
    released: Project, good_batch: Batch, template: Template, tmp_path
) -> None:
    """model@v1.0.0's model and processed data are gone from the remote and this machine: the whole and the
    model-only restore fail naming them, and change nothing; once a machine that has them pushes them
    back, the restore works, byte-exact."""
    deliver(released, good_batch.name, good_batch.content)
    second = retrain(released, "run", "--push")
    assert second.returncode == 0 and second.last_stdout == "released model@v1.1.0", second.describe()
    old = released.lock_objects("model@v1.0.0")
    gone = {path: old[path] for path in ("models/model.joblib", "data/processed")}
    assert all(released.lock_objects("HEAD")[path] != md5 for path, md5 in gone.items())
    store = LocalStore(released.storage)
    for md5 in gone.values():
        store.path(md5).unlink()
        (released.root / ".dvc/cache/files/md5" / md5[:2] / md5[2:]).unlink()
    watched = ("data", "models", "metrics", "dvc.lock", "params.yaml")
    before = (released.git("rev-parse", "HEAD"), released.git("status", "--porcelain"), snapshot(released, *watched))

    for form in ([], ["--only", "model"]):
        result = retrain(released, "restore", "model@v1.0.0", *form)
        assert_failed(result, 1, "cannot restore model@v1.0.0", gone["models/model.joblib"], "workspace is unchanged")
        after = (released.git("rev-parse", "HEAD"), released.git("status", "--porcelain"), snapshot(released, *watched))
        assert after == before, f"restore {' '.join(form)} changed the workspace"

    keeper = copy_clone(template.project, released, tmp_path)  # a machine whose cache still has them
    keeper.dvc("push", "--all-tags", "-r", "local")
    result = retrain(released, "restore", "model@v1.0.0")
    assert result.returncode == 0, result.describe()
    model = (released.root / "models/model.joblib").read_bytes()
    assert hashlib.md5(model, usedforsecurity=False).hexdigest() == gone["models/model.joblib"]
    assert released.git("rev-parse", "HEAD") == released.tags()["model@v1.0.0"]
    assert_consistent(released, released.storage, settled=True)
