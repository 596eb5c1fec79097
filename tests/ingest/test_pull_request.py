"""The pull-request path: `retrain ingest SOURCE --push` keeps one branch per landing. While its batches are not
on develop (the pull request is open) later runs add to it; once they are (merged, squashed or not), the next
run starts it again from develop, as a fast-forward of the old branch: never a force-push, never two pull
requests for the same deliveries."""

from __future__ import annotations

import pytest

from tests.helpers import Project
from tests.helpers.landing import FolderLanding, batches_on, delivery, ingest, merge_on_origin, report

pytestmark = pytest.mark.slow  # runs the engine against real git and DVC

BRANCH = "ingest/landing"


def ingested(project: Project, landing: FolderLanding, name: str, seed: int) -> dict:
    landing.put(name, delivery(30, seed=seed))
    run = ingest(project, landing.source, "--push")
    assert run.returncode == 0, run.describe()
    assert run.lines[-1].startswith("ingest: 1 ingested"), run.describe()
    assert project.origin_git("rev-parse", BRANCH) == project.git("rev-parse", BRANCH), "pushed"
    return report(project)


def keys_on(project: Project, rev: str) -> list[str]:
    return sorted(spec["meta"]["ingest"]["key"] for spec in batches_on(project, rev).values() if "meta" in spec)


def test_runs_add_to_the_open_branch_then_start_again_after_a_merge(project: Project, folder_landing):
    first = ingested(project, folder_landing, "2025-03-01.csv", 1)
    tip = project.git("rev-parse", BRANCH)
    assert first["pushed"] and first["base"] == "develop" and len(first["pending_batches"]) == 1

    second = ingested(project, folder_landing, "2025-03-02.csv", 2)
    assert project.git("rev-parse", f"{BRANCH}^") == tip, "added to the open branch"
    assert len(second["pending_batches"]) == 2
    assert keys_on(project, BRANCH) == ["2025-03-01.csv", "2025-03-02.csv"]

    merge_on_origin(project, BRANCH, squash=False)
    merged_tip = project.git("rev-parse", BRANCH)
    third = ingested(project, folder_landing, "2025-03-03.csv", 3)
    new_tip = project.git("rev-parse", BRANCH)
    assert project.git("rev-parse", f"{new_tip}^@").split() == [project.origin_git("rev-parse", "develop")]
    assert project.git("merge-base", "--is-ancestor", merged_tip, new_tip) == "", "a fast-forward"
    assert [name.endswith("-landing-2025-03-03.csv") for name in third["pending_batches"]] == [True]


def test_after_a_squash_merge_the_branch_starts_again_without_a_force_push(project: Project, folder_landing):
    ingested(project, folder_landing, "2025-03-01.csv", 1)
    merge_on_origin(project, BRANCH, squash=True)
    old_tip = project.git("rev-parse", BRANCH)

    run = ingested(project, folder_landing, "2025-03-02.csv", 2)

    new_tip = project.git("rev-parse", BRANCH)
    assert project.git("rev-parse", f"{new_tip}^@").split() == [old_tip, project.origin_git("rev-parse", "develop")]
    assert [name.endswith("-landing-2025-03-02.csv") for name in run["pending_batches"]] == [True]
    assert project.git("diff", "--name-only", "origin/develop", new_tip).split() == [
        f"{run['pending_batches'][0]}.dvc"
    ], "the pull request shows only the new batch"


def test_a_run_stopped_before_its_push_is_pushed_by_the_next(project: Project, folder_landing: FolderLanding):
    folder_landing.put("2025-03-01.csv", delivery(30, seed=1))
    assert ingest(project, folder_landing.source).returncode == 0  # no --push: committed locally only
    assert project.origin_git("branch", "--list", BRANCH) == ""

    run = ingest(project, folder_landing.source, "--push")

    assert run.returncode == 0, run.describe()
    assert run.lines[-1] == "ingest: nothing new, 1 already ingested"
    assert "local commits not on origin yet" in run.stderr
    assert project.origin_git("rev-parse", BRANCH) == project.git("rev-parse", BRANCH)
    assert report(project)["pushed"] is True and len(report(project)["pending_batches"]) == 1
