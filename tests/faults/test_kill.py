"""`retrain run --push` killed with SIGKILL (the whole process group, as a cancelled CI job is) at the start of
each of its steps, and once in the middle of a training stage; a re-run finishes the release, once.

The delivery is the good batch, whose computation is in the run-cache, so each run takes seconds; the
mid-stage kill uses a params change, which has to train.
"""

from __future__ import annotations

import pytest
import yaml

from tests.helpers import Project
from tests.helpers.consistency import assert_consistent
from tests.helpers.harness import (
    assert_failed,
    assert_finishes,
    assert_refused_before_compute,
    deliver,
    kill_when,
    retrain,
)
from tests.helpers.templates import Batch

pytestmark = pytest.mark.faults

STEPS = [
    "[1/9] preflight: git, params, remote ...",
    "[2/9] pull what is needed, reproduce ...",
    "[3/9] push data and run-cache to `local` ...",
    "[4/9] verify every object in the remote ...",
    "[5/9] commit dvc.lock ...",
    "[6/9] quality gate ...",
    "[7/9] tag ...",
    "[8/9] push commit and tag to origin ...",
    "[9/9] report ...",
]


@pytest.mark.parametrize("step", STEPS, ids=[step.split("]")[0][1:].replace("/", "-of-") for step in STEPS])
def test_sigkill_at_each_step_then_rerun_finishes(step: str, released: Project, good_batch: Batch) -> None:
    deliver(released, good_batch.name, good_batch.content)
    origin_develop = released.origin_git("rev-parse", "develop")

    kill_when(released, step, "run", "--push")  # fails unless the step began and the run was killed

    origin_tags = released.origin_tags()
    assert set(origin_tags) <= {"model@v1.0.0", "model@v1.1.0"}
    if "model@v1.1.0" in origin_tags:  # the push is atomic: the tag and its commit landed together
        assert released.origin_git("rev-parse", "develop") == origin_tags["model@v1.1.0"]
    else:
        assert released.origin_git("rev-parse", "develop") == origin_develop
    assert_consistent(released, released.storage)

    # Killed once the tag was made (the kill lands a few milliseconds into the step), the re-run only has
    # to push it: up to date. Before, it makes the release itself.
    tagged = "model@v1.1.0" in released.tags()
    assert tagged or not step.startswith(("[8/", "[9/")), "the tag made before the push step is gone"
    _clear_stale_index_lock(released)
    result = assert_finishes(released, released.storage, f"{'up to date:' if tagged else 'released'} model@v1.1.0")
    assert set(released.origin_tags()) == {"model@v1.0.0", "model@v1.1.0"}, "a release was made twice"
    marks = released.origin_git(
        "log", "--format=%(trailers:key=Retrain-Commit,valueonly,separator=%x2C)%x09%s", "develop"
    )
    assert sum(line.startswith("release\t") for line in marks.splitlines()) == _engine_commits(released), marks
    assert "Traceback" not in result.stderr


def _clear_stale_index_lock(project: Project) -> None:
    """What a kill can leave half-written, followed the way the re-run's one line says.

    A kill that lands while git (or DVC's autostage) writes the index leaves .git/index.lock, and git refuses
    to work until it is gone; one that lands while DVC writes dvc.lock leaves it truncated. Rare (the kill
    has to hit those milliseconds); when it happens the re-run must name it and say what to do.
    """
    lock = project.root / ".git" / "index.lock"
    if lock.exists():
        assert_failed(retrain(project, "run", "--push"), 1, ".git/index.lock exists", "delete .git/index.lock")
        lock.unlink()
    try:
        yaml.safe_load((project.root / "dvc.lock").read_text())
    except yaml.YAMLError:
        assert_failed(retrain(project, "run", "--push"), 2, "dvc.lock: corrupted", "git checkout HEAD -- dvc.lock")
        project.git("checkout", "HEAD", "--", "dvc.lock")


def _engine_commits(project: Project) -> int:
    """Engine commits expected on origin: the template's first release (if it committed) plus this one."""
    first = project.origin_git("rev-list", "-n", "1", "model@v1.0.0")
    root = project.origin_git("rev-list", "--max-parents=0", "develop")
    return 1 + (first != root)


def test_sigkill_in_the_middle_of_training(released: Project) -> None:
    """Killed while `train` runs (DVC holds its lock, outputs half-made): the re-run trains again and releases."""
    released.set_param("train", "C", 0.25)  # not in the run-cache: train has to run
    kill_when(released, "train: fit on", "run", "--push")
    assert set(released.origin_tags()) == {"model@v1.0.0"}
    assert set(released.tags()) == {"model@v1.0.0"}
    assert_consistent(released, released.storage)
    _clear_stale_index_lock(released)
    result = assert_finishes(released, released.storage, "released model@v1.0.1")
    assert "ran train" in result.stderr or "ran preprocessing, train" in result.stderr, result.stderr


def test_stale_index_lock_left_by_a_killed_git(released: Project, good_batch: Batch) -> None:
    """What a git killed mid-write leaves (.git/index.lock): one line saying what it is and what to do,
    before anything runs; deleting it lets the run finish."""
    deliver(released, good_batch.name, good_batch.content)
    (released.root / ".git" / "index.lock").write_bytes(b"")
    assert_refused_before_compute(released, 1, ".git/index.lock exists", "killed", "delete .git/index.lock and re-run")
    (released.root / ".git" / "index.lock").unlink()
    assert_finishes(released, released.storage, "released model@v1.1.0")
