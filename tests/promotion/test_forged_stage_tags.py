"""A stage tag is anyone's claim until checked: `retrain publish` serves only a stage tag that sits on a release of
the checked-out branch's history and reads as `retrain promote`/`rollback` wrote it. Real git, real GTO, a folder
target (what is written there is the proof)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Project

pytestmark = pytest.mark.slow

REGISTRY_LIKE = "Promote {release} to prod\n\naction: promote\nprevious: none\nby: mallory\n"


def forge_tag(project: Project, name: str, target: str, message: str) -> None:
    """An annotated tag made by hand with plain git, as anyone with push access could."""
    note = project.root.parent / f"{name.replace('#', '-')}.message"
    note.write_text(message)
    project.git("tag", "--annotate", "--cleanup=verbatim", name, target, f"--file={note}")


def off_history_commit(project: Project) -> str:
    """A commit on no branch, its metrics zeroed: what an attacker tags and pushes alone."""
    project.git("switch", "--quiet", "--detach")
    (project.root / "metrics" / "metrics.json").write_text('{"accuracy": 0.0}\n')
    project.git("commit", "--quiet", "--no-verify", "-am", "metrics: zero")
    sha = project.git("rev-parse", "HEAD")
    project.git("switch", "--quiet", "-")
    return sha


def publish(project: Project, to: Path):
    return project.retrain("publish", "--stage", "prod", "--to", str(to))


def test_a_stage_tag_on_a_release_off_the_branch_is_refused_and_nothing_is_published(
    released: Project, tmp_path: Path
) -> None:
    to = tmp_path / "serving"
    evil = off_history_commit(released)
    forge_tag(released, "model@v9.0.0", evil, "model@v9.0.0\n")
    forge_tag(released, "model#prod#7", evil, REGISTRY_LIKE.format(release="model@v9.0.0"))

    result = publish(released, to)

    assert result.returncode == 2, result.stdout + result.stderr
    last = result.stderr.strip()
    assert last.count("\n") == 0 and "Traceback" not in result.stderr, result.stderr
    assert last.startswith("error: stage tag model#prod#7 assigns prod to model@v9.0.0, which is not a release on")
    assert "git push origin :refs/tags/model#prod#7" in last
    assert not to.exists(), "a forged stage tag reached serving"


def test_a_stage_tag_not_made_by_the_registry_flow_is_refused_then_a_promotion_publishes(
    released: Project, tmp_path: Path
) -> None:
    to = tmp_path / "serving"
    release_commit = released.tags()["model@v1.1.0"]
    forge_tag(released, "model#prod#7", release_commit, "ship it\n")

    forged = publish(released, to)

    assert forged.returncode == 2, forged.stdout + forged.stderr
    assert forged.stderr.strip().startswith("error: stage tag model#prod#7 was not made by the registry flow")
    assert not to.exists()

    # The same release, assigned by the registry flow, is published: the check refuses the tag, not the release.
    released.git("tag", "--delete", "model#prod#7")
    promoted = released.retrain("promote", "v1.1.0", "--stage", "prod")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    made = publish(released, to)
    assert made.returncode == 0, made.stdout + made.stderr
    assert (to / "prod" / "v1.1.0" / "model.joblib").is_file()
