"""A release tag pushed onto a commit off `develop` is anyone's claim: the gate compares with the latest release on
the history being released, the run names the tags it ignored, and a new version never reuses a tag's number.
Real git (a bare origin that took the forged tags), real DVC."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import Project
from tests.helpers.harness import assert_failed, deliver, repo_state, retrain
from tests.helpers.templates import Batch

pytestmark = pytest.mark.faults


def push_forged_release(project: Project, tag: str, accuracy: float) -> str:
    """What an attacker with push access does: a commit on no branch with the metrics rewritten, tagged as a
    release, and only the tag pushed."""
    metrics = project.root / "metrics" / "metrics.json"
    project.git("switch", "--quiet", "--detach")
    metrics.write_text(json.dumps({**json.loads(metrics.read_text()), "accuracy": accuracy}) + "\n")
    project.git("commit", "--quiet", "--no-verify", "-am", "metrics")
    sha = project.git("rev-parse", "HEAD")
    project.git("tag", "--annotate", "--message", tag, tag)
    project.git("push", "--quiet", "origin", f"refs/tags/{tag}")
    project.git("switch", "--quiet", "develop")
    return sha


def test_a_forged_release_tag_off_develop_is_no_baseline_and_no_version_is_reused(
    released: Project, good_batch: Batch
) -> None:
    real = json.loads(released.git("show", "model@v1.0.0:metrics/metrics.json"))["accuracy"]
    push_forged_release(released, "model@v9.0.0", 0.0)
    push_forged_release(released, "model@v1.1.0", 0.0)
    assert {"model@v9.0.0", "model@v1.1.0"} <= set(released.origin_tags())

    noisy = released.add_batch(rows=6000, label_noise=0.6, seed=5)
    before = repo_state(released)
    gated = retrain(released, "run", "--push")

    last = assert_failed(gated, 3, "gated", "no tag")
    new, old = map(float, re.search(r"accuracy (\d\.\d+) vs (\d\.\d+)", last).groups())
    assert old == pytest.approx(real, abs=1e-4), f"the gate compared with {old}, not model@v1.0.0's {real}"
    assert new < old - 0.02, last
    said = gated.stdout + gated.stderr
    assert re.search(r"ignored 2 release tag\(s\) not on this commit's history: model@v1\.1\.0 .*model@v9\.0\.0", said)
    assert repo_state(released)["origin_develop"] == before["origin_develop"], "a gated release reached origin"

    noisy.unlink()
    released.git("rm", "--quiet", f"data/raw/{noisy.name}.dvc")
    released.git("commit", "--quiet", "-m", "data: withdraw the noisy delivery")
    deliver(released, good_batch.name, good_batch.content)
    made = retrain(released, "run", "--push")

    assert made.returncode == 0, made.describe()
    assert made.last_stdout == "released model@v1.2.0", made.describe()  # v1.1.0 is a forged tag's number
    origin = released.origin_tags()
    assert origin["model@v1.2.0"] == released.origin_git("rev-parse", "develop")
    assert "vs " in said and f"{real:.4f}" in made.stdout + made.stderr
