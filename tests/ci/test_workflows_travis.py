"""The Travis story, in a sandbox of its own (tests/ci/conftest.py `second_ci`, xdist group `ci-second`): a pull
request build reports on the pull request beside GitHub Actions' own report, and the develop build hands the merge
to GitHub Actions, which releases it once. develop is protected as docs/ci.md sets it up (the release App on its
bypass list), as in the second half of test_workflows.py.
"""

from __future__ import annotations

import pytest

from tests.ci.conftest import APP_IDENTITY, TRAVIS_USER, travis_jobs
from tests.ci.story import (
    APP_SECRETS,
    APP_VARS,
    METRICS_ROW,
    OIDC,
    PR_TITLE,
    TRAVIS_PR_TITLE,
    has_release_trailer,
    new_tags,
    on_develop,
    protect_develop,
)

pytestmark = [pytest.mark.ci, pytest.mark.xdist_group("ci-second")]


@pytest.fixture(scope="module")
def ci(second_ci):
    protect_develop(second_ci)
    return second_ci


def test_travis_pull_request_build_reports_on_the_pr(ci):
    ci.start_branch("travis-tune")
    ci.set_param("train", "max_iter", "250")
    head = ci.commit_all("Fewer solver iterations")
    ci.push("travis-tune", "HEAD:refs/pull/4/head")
    # GitHub's test merge of the PR into develop, which Travis builds.
    on_develop(ci)
    ci.git("merge", "--quiet", "--no-ff", "-m", "Merge travis-tune into develop", "travis-tune")
    merge = ci.git("rev-parse", "HEAD")
    ci.push("HEAD:refs/pull/4/merge")
    ci.git("reset", "--quiet", "--hard", "origin/develop")
    refs = ci.origin_refs()

    result = ci.travis("pull_request", commit=merge, pull_request=4, pr_branch="travis-tune", pr_sha=head)

    assert result.returncode == 0, result.explain()
    comments = ci.comments_on("pr", 4)
    assert len(comments) == 1, comments
    assert comments[0]["watermark"] == TRAVIS_PR_TITLE
    assert comments[0]["driver"] == "github" and comments[0]["repo"] == "https://github.com/acme/ml-repo"
    assert METRICS_ROW.search(comments[0]["body"]), comments[0]["body"]
    assert ci.origin_refs() == refs

    # GitHub Actions on too: its report is a comment of its own; neither updates the other's.
    result = ci.act("pull_request", "pr.yml", ci.pull_request_payload(4, head, "travis-tune", "opened"), variables=OIDC)
    assert result.returncode == 0, result.explain()
    comments = ci.comments_on("pr", 4)
    assert sorted(c["watermark"] for c in comments) == [PR_TITLE, TRAVIS_PR_TITLE], comments
    assert all(c["history"] == ["create"] for c in comments)


def test_travis_hands_a_merge_to_github_actions_which_releases_it_once(ci):
    """Travis holds no credential that can push: its develop build dispatches retrain.yml on develop with a token
    that can only dispatch (the fake API checks the workflow file and its inputs at develop), and pushes nothing.
    GitHub runs that dispatch: the release, with the App's token; GitHub's own run for the merge push then finds it
    released ("up to date"): one tag."""
    tags = ci.origin_tags()
    ci.new_pushes()
    before, merge = ci.merge_pr(4, "travis-tune")
    assert [workflow for workflow, _ in ci.runs_for(ci.new_pushes())] == ["retrain.yml"]
    dispatched = len(ci.api.dispatches())

    result = ci.travis("push", commit=merge)

    assert result.returncode == 0, result.explain()
    assert "dispatched retrain.yml on develop of acme/ml-repo" in result.output
    assert ci.new_pushes() == [] and ci.origin_tags() == tags, "Travis pushed nothing"
    (dispatch,) = ci.api.dispatches()[dispatched:]
    assert (dispatch["workflow"], dispatch["ref"], dispatch["sha"]) == ("retrain.yml", "refs/heads/develop", merge)
    assert dispatch["identity"] == TRAVIS_USER and dispatch["inputs"] == {}

    # The run GitHub starts for it: workflow_dispatch on develop, the release as on a push.
    on_develop(ci)
    payload = {"ref": dispatch["ref"], "inputs": dispatch["inputs"], "repository": ci.repository_payload()}
    result = ci.act("workflow_dispatch", "retrain.yml", payload, variables=APP_VARS, secrets=APP_SECRETS)

    assert result.returncode == 0, result.explain()
    head = ci.origin_head()
    assert ci.origin_git("rev-parse", f"{head}^") == merge and has_release_trailer(ci, head)
    added = new_tags(tags, ci.origin_tags())
    assert len(added) == 1 and ci.origin_tags()[added[0]] == head, added
    assert {(p.identity, p.kind) for p in ci.new_pushes()} == {(APP_IDENTITY, "app")}
    assert ci.missing_objects(head) == []
    # Travis: no build for the release commit (the build condition on its final trailer line).
    event = {"type": "push", "branch": "develop", "commit_message": ci.commit_message(head)}
    assert travis_jobs(ci.travis_config(), event) == []

    # GitHub's run for the merge push (queued behind the dispatched one): up to date, nothing pushed.
    ci.git("checkout", "--quiet", "-B", "develop", merge)
    comments = ci.comments()
    result = ci.act("push", "retrain.yml", ci.push_payload(before, merge), variables=APP_VARS, secrets=APP_SECRETS)

    assert result.returncode == 0, result.explain()
    assert f"up to date: {added[0]}" in result.summary("retrain")
    assert ci.origin_head() == head and new_tags(tags, ci.origin_tags()) == added, "released once"
    assert ci.comments() == comments and ci.new_pushes() == []
