"""Faults on the git side: origin moved, refuses, drops the connection mid-push, or is gone; a local release
that origin overtook; two releases at once. The push is atomic (branch and tag together) and never forced.
"""

from __future__ import annotations

import stat

import pytest
import yaml

from tests.helpers import Project, sh
from tests.helpers.consistency import assert_consistent
from tests.helpers.harness import (
    assert_failed,
    assert_finishes,
    deliver,
    finish,
    repo_state,
    retrain,
    start_retrain,
)
from tests.helpers.templates import Batch, Template, copy_clone

pytestmark = pytest.mark.faults


def _hook(project: Project, name: str, body: str) -> None:
    hook = project.origin / "hooks" / name
    hook.write_text("#!/bin/sh\n" + body + "\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _origin_yaml(project: Project, rev: str, path: str) -> dict:
    return yaml.safe_load(project.origin_git("show", f"{rev}:{path}"))


def _on_origin(project: Project, ancestor: str, descendant: str) -> bool:
    found = sh(["git", "merge-base", "--is-ancestor", ancestor, descendant], project.origin, project.env, check=False)
    return found.returncode == 0


def _raw_md5(project: Project, rev: str = "HEAD") -> dict[str, str]:
    return project.raw_objects(rev)


def test_push_rejected_because_another_release_landed_first(
    released: Project, template: Template, good_batch: Batch, tmp_path
) -> None:
    """develop moved (a params release landed): fetch, rebase, reproduce with both changes, then push."""
    other = copy_clone(template.project, released, tmp_path)
    other.set_param("train", "C", 0.5)
    first = retrain(other, "run", "--push")
    assert first.returncode == 0 and first.last_stdout == "released model@v1.0.1", first.describe()
    deliver(released, good_batch.name, good_batch.content)
    ours = _raw_md5(released)

    result = assert_finishes(released, released.storage, "released model@v1.1.0")

    assert "rejected the push" in result.stderr and "catching up with origin/develop" in result.stderr
    retried = result.stderr.split("catching up with origin/develop", 1)[1]
    reproduced = [line for line in retried.splitlines() if line.strip().startswith(("ran ", "restored from"))]
    assert reproduced and "train" in reproduced[0], f"the retry did not reproduce with origin's params:\n{retried}"
    lock = _origin_yaml(released, "model@v1.1.0", "dvc.lock")
    assert lock["stages"]["train"]["params"]["params.yaml"]["train.C"] == 0.5, "released a stale dvc.lock"
    assert released.raw_objects("model@v1.1.0", released.origin) == ours
    assert _on_origin(released, "model@v1.0.1", "model@v1.1.0"), "origin's release was not built upon"
    other.git("fetch", "--quiet", "--tags", "origin")
    assert_consistent(other, other.storage, settled=True)


def test_origin_keeps_refusing_gives_up_and_undoes_the_local_release(released: Project, good_batch: Batch) -> None:
    """origin refuses every push: bounded retries, exit 1, no local tag or engine commit left behind."""
    _hook(released, "pre-receive", "echo 'develop is frozen for maintenance' >&2; exit 1")
    deliver(released, good_batch.name, good_batch.content)
    before = repo_state(released)

    result = retrain(released, "run", "--push")

    assert_failed(result, 1, "origin rejected the push", "pre-receive hook declined", "develop is frozen", "Re-run")
    assert "gave up after 3 attempts" in result.last_line
    after = repo_state(released)
    assert after["head"] == before["head"], "the engine commit of a release origin refused is still there"
    assert after["tags"] == before["tags"], "a tag origin refused is still there"
    assert after["origin_tags"] == before["origin_tags"] and after["origin_develop"] == before["origin_develop"]
    assert_consistent(released, released.storage)

    (released.origin / "hooks" / "pre-receive").unlink()
    assert_finishes(released, released.storage, "released model@v1.1.0")


@pytest.mark.parametrize(
    ("hook", "landed"),
    [
        ("pre-receive", False),  # the connection drops before origin takes anything
        ("reference-transaction", True),  # origin updated its refs, then the connection dropped: no answer
    ],
    ids=["before-origin-took-it", "after-origin-took-it"],
)
def test_connection_lost_during_git_push(hook: str, landed: bool, released: Project, good_batch: Batch) -> None:
    """git push dies mid-way (origin's receive-pack is killed): exit 1; the re-run pushes or sees it landed."""
    body = "kill -9 $PPID" if hook == "pre-receive" else '[ "$1" = committed ] && kill -9 $PPID; exit 0'
    _hook(released, hook, body)
    deliver(released, good_batch.name, good_batch.content)

    result = retrain(released, "run", "--push")

    assert_failed(result, 1, "origin", "re-run")
    head = released.git("rev-parse", "HEAD")
    assert released.tags().get("model@v1.1.0") == head, "the local release is gone: a re-run could not finish it"
    assert ("model@v1.1.0" in released.origin_tags()) == landed
    assert_consistent(released, released.storage)

    (released.origin / "hooks" / hook).unlink()
    finished = assert_finishes(released, released.storage, "up to date: model@v1.1.0")
    assert released.origin_tags()["model@v1.1.0"] == head
    assert ("origin already has model@v1.1.0" in finished.stderr) == landed


def test_origin_unreachable_after_the_local_tag(released: Project, good_batch: Batch) -> None:
    """A local release, then origin is gone (moved away) for the --push run: exit 1, local release kept;
    when origin is back the re-run pushes that same release."""
    deliver(released, good_batch.name, good_batch.content)
    local = retrain(released, "run")
    assert local.returncode == 0 and local.last_stdout == "released model@v1.1.0", local.describe()
    tagged = released.tags()["model@v1.1.0"]
    away = released.origin.with_name("origin-moved-away.git")
    released.origin.rename(away)
    try:
        result = retrain(released, "run", "--push")
    finally:
        away.rename(released.origin)

    assert_failed(result, 1, "origin", "re-run")
    assert released.tags()["model@v1.1.0"] == tagged
    assert "model@v1.1.0" not in released.origin_tags()
    assert_consistent(released, released.storage)

    assert_finishes(released, released.storage, "up to date: model@v1.1.0")
    assert released.origin_tags()["model@v1.1.0"] == tagged


def test_local_release_then_origin_moved(released: Project, good_batch: Batch, tmp_path, template: Template) -> None:
    """A local release (no push), while someone pushed to develop: the --push run must not get stuck on a
    rejected push of the old tag; it re-releases on top of origin."""
    deliver(released, good_batch.name, good_batch.content)
    local = retrain(released, "run")
    assert local.returncode == 0, local.describe()
    stale = released.tags()["model@v1.1.0"]
    other = copy_clone(template.project, released, tmp_path)
    (other.root / "README.md").write_text((other.root / "README.md").read_text() + "\nA note.\n")
    other.git("commit", "--quiet", "-am", "docs: a note")
    other.git("push", "--quiet", "origin", "develop")

    finished = assert_finishes(released, released.storage, "released model@v1.1.0")
    assert "rejected the push" in finished.stderr and "catching up" in finished.stderr
    released_on = released.origin_tags()["model@v1.1.0"]
    assert released_on != stale and released.tags()["model@v1.1.0"] == released_on
    pushed = sh(["git", "cat-file", "-e", f"{stale}^{{commit}}"], released.origin, released.env, check=False)
    assert pushed.returncode != 0, "the stale release commit reached origin"
    assert _on_origin(released, other.git("rev-parse", "HEAD"), "model@v1.1.0"), "the pushed docs commit was lost"


def test_local_release_overtaken_by_a_release_on_origin(
    released: Project, good_batch: Batch, other_batch: Batch, tmp_path, template: Template
) -> None:
    """Our local model@v1.1.0 was never pushed; another clone released its own model@v1.1.0 (other data).
    The --push run replaces our tag with origin's, and releases both deliveries as model@v1.2.0."""
    deliver(released, good_batch.name, good_batch.content)
    local = retrain(released, "run")
    assert local.returncode == 0, local.describe()
    other = copy_clone(template.project, released, tmp_path)
    deliver(other, other_batch.name, other_batch.content)
    theirs = retrain(other, "run", "--push")
    assert theirs.returncode == 0 and theirs.last_stdout == "released model@v1.1.0", theirs.describe()

    finished = assert_finishes(released, released.storage, "released model@v1.2.0")
    assert "differed from origin's" in finished.stderr
    assert released.tags()["model@v1.1.0"] == other.tags()["model@v1.1.0"]
    members = _members(released, "model@v1.2.0")
    assert {good_batch.name, other_batch.name} <= set(members), members


def _members(project: Project, rev: str) -> list[str]:
    """The batches of an origin release whose objects are in the remote."""
    found = project.raw_objects(rev, project.origin)
    stored = [path for path, md5 in found.items() if (project.storage / "files/md5" / md5[:2] / md5[2:]).is_file()]
    return [path.removeprefix("data/raw/") for path in stored]


def test_two_releases_at_once_from_two_clones(
    released: Project, good_batch: Batch, other_batch: Batch, tmp_path, template: Template
) -> None:
    """Two clones, each with a new delivery, run `retrain run --push` at the same moment: both finish, the
    tags are unique, the last release holds both deliveries, nothing on origin lacks its data."""
    other = copy_clone(template.project, released, tmp_path)
    deliver(released, good_batch.name, good_batch.content)
    deliver(other, other_batch.name, other_batch.content)
    runs = [start_retrain(project, "run", "--push") for project in (released, other)]
    results = [finish(run) for run in runs]
    for result in results:
        assert result.returncode == 0, result.describe()
    made = sorted(result.last_stdout for result in results)
    assert made == ["released model@v1.1.0", "released model@v1.2.0"], made
    assert sum("catching up with origin/develop" in result.stderr for result in results) == 1, "no race happened"
    tags = released.origin_tags()
    assert set(tags) == {"model@v1.0.0", "model@v1.1.0", "model@v1.2.0"}
    assert released.origin_git("rev-parse", "develop") == tags["model@v1.2.0"]
    assert {good_batch.name, other_batch.name} <= set(_members(released, "model@v1.2.0"))
    for project in (released, other):
        project.git("fetch", "--quiet", "--tags", "origin")
        assert_consistent(project, project.storage, settled=True)
