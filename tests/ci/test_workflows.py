"""The real workflow files (.github/workflows/*.yml, run by act on the host) and .travis.yml, end to end.

One story against one origin and one bucket (see conftest.py): the scenarios run in this order and
each starts from where the previous one left develop. Each asserts on the bare origin (commits,
tags, tag messages), the moto bucket and the comments the CML stand-in recorded.
"""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.ci, pytest.mark.xdist_group("ci")]

REMOTE = "s3remote"
OIDC = {"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/retrain-ci"}
PR_TITLE = "CML watermark retrain pull-request report"
RELEASE_TITLE = "CML watermark retrain release"
TRAVIS_TITLE = "CML watermark retrain travis"
METRICS_ROW = re.compile(r"^\| accuracy \|\s*[0-9.]+\s*\|\s*[0-9.]+\s*\|", re.M)


def dispatch_payload(**inputs: str) -> dict:
    return {"ref": "refs/heads/develop", "inputs": inputs, "repository": {"full_name": "acme/ml-repo"}}


def dispatch_inputs(force="false", dry_run="false", note="", cloud_runner="false") -> dict:
    return {"force": force, "dry_run": dry_run, "note": note, "cloud_runner": cloud_runner}


def on_develop(ci) -> str:
    ci.git("fetch", "--quiet", "--prune", "--tags", "--force", "origin")
    ci.git("checkout", "--quiet", "-B", "develop", "origin/develop")
    return ci.git("rev-parse", "HEAD")


def new_tags(before: dict, after: dict) -> list[str]:
    return sorted(set(after) - set(before))


def test_pr_opened_posts_one_comment_with_a_metrics_table(ci):
    ci.start_branch("tune-c")
    ci.set_param("train", "C", "0.5")
    head = ci.commit_all("Tune C: stronger regularisation")
    ci.push("tune-c")
    refs, keys = ci.origin_refs(), ci.bucket_keys()

    result = ci.act("pull_request", "pr.yml", ci.pull_request_payload(1, head, "tune-c", "opened"), variables=OIDC)

    assert result.returncode == 0, result.explain()
    # The install came from uv's cache, restored under the key of this lock (offline: nothing else would do).
    assert ci.cache_restores()[-1] == {
        "key": ci.state["uv_cache_key"],
        "matched": ci.state["uv_cache_key"],
        "cache_hit": "true",
        "path": str(ci.home / ".cache" / "uv"),
    }
    comments = ci.comments_on("pr", 1)
    assert len(comments) == 1, comments
    comment = comments[0]
    assert comment["history"] == ["create"]
    assert comment["watermark"] == PR_TITLE
    assert comment["sha"] == head, "the watermark names the PR head, not a merge commit"
    assert METRICS_ROW.search(comment["body"]), comment["body"]
    assert "origin/develop" in comment["body"]
    assert "train.C" in comment["body"], "the params diff is in the report"
    assert comment["published"], "the report's plots exist beside it"
    assert METRICS_ROW.search(result.summary("report")), "the job summary has the report too"
    # Nothing released from a PR; its run-cache was pushed for the merge build to reuse.
    assert ci.origin_refs() == refs
    assert any(key.startswith("artifact-versioning/runs/") for key in ci.bucket_keys() - keys)
    ci.state["pr1"] = {"branch": "tune-c", "head": head}


def test_pr_pushed_again_updates_the_same_comment(ci):
    ci.git("checkout", "--quiet", "tune-c")
    ci.set_param("train", "max_iter", "300")
    head = ci.commit_all("More solver iterations")
    ci.push("tune-c")

    result = ci.act("pull_request", "pr.yml", ci.pull_request_payload(1, head, "tune-c", "synchronize"), variables=OIDC)

    assert result.returncode == 0, result.explain()
    comments = ci.comments_on("pr", 1)
    assert len(comments) == 1, "updated in place, not a second comment"
    assert comments[0]["history"] == ["create", "update"]
    assert comments[0]["sha"] == head
    assert "train.max_iter" in comments[0]["body"]
    assert METRICS_ROW.search(comments[0]["body"])


def test_merge_to_develop_commits_the_lock_tags_pushes_and_comments_on_the_pr(ci):
    tags = ci.origin_tags()
    before, merge = ci.merge_pr(1, "tune-c")

    result = ci.act("push", "retrain.yml", ci.push_payload(before, merge, "Merge pull request #1"), variables=OIDC)

    assert result.returncode == 0, result.explain()
    assert result.job_results() == {"launch-runner": "skipped", "retrain": "success"} or result.job_results() == {
        "retrain": "success"
    }, result.job_results()
    head = ci.origin_head()
    assert ci.origin_git("rev-parse", f"{head}^") == merge, "one commit on top of the merge"
    assert "[skip ci]" in ci.origin_git("log", "-1", "--format=%B", head)
    assert "dvc.lock" in ci.origin_git("diff-tree", "--no-commit-id", "--name-only", "-r", head).split()
    added = new_tags(tags, ci.origin_tags())
    assert len(added) == 1 and added[0].startswith("model@v"), added
    tag = added[0]
    assert ci.origin_tags()[tag] == head
    assert ci.origin_git("cat-file", "-t", f"refs/tags/{tag}") == "tag", "annotated"
    assert "/acme/ml-repo/actions/runs/" in ci.tag_message(tag), "the run URL is in the tag message"
    assert ci.missing_objects(head) == [], "every object of the release is in the bucket"
    release_comments = [c for c in ci.comments_on("pr", 1) if c["watermark"] == RELEASE_TITLE]
    assert len(release_comments) == 1, ci.comments()
    assert tag in release_comments[0]["body"]
    assert tag in result.summary("retrain")
    ci.state["released"] = tag


def test_merge_that_changes_nothing_in_the_pipeline_makes_no_commit_and_no_tag(ci):
    ci.start_branch("ignore-swap-files")
    (ci.dev / ".gitignore").write_text((ci.dev / ".gitignore").read_text() + "# editors\n*.swp\n")
    ci.commit_all("Ignore editor swap files")
    ci.push("ignore-swap-files")
    tags, comments = ci.origin_tags(), ci.comments()
    before, merge = ci.merge_pr(2, "ignore-swap-files")

    result = ci.act("push", "retrain.yml", ci.push_payload(before, merge, "Merge pull request #2"), variables=OIDC)

    assert result.returncode == 0, result.explain()
    assert ci.origin_head() == merge, "no commit"
    assert ci.origin_tags() == tags, "no tag"
    assert ci.comments() == comments, "nothing to announce"
    assert "up to date" in result.summary("retrain")


def test_dispatch_force_recomputes_every_stage(ci):
    head = on_develop(ci)
    tags = ci.origin_tags()
    inputs = dispatch_inputs(force="true")

    result = ci.act("workflow_dispatch", "retrain.yml", dispatch_payload(**inputs), inputs=inputs, variables=OIDC)

    assert result.returncode == 0, result.explain()
    # --force recomputes every stage instead of restoring them from the run-cache.
    assert re.search(r"ran [a-z, ]*train", result.log), result.log[-3000:]
    if ci.origin_head() == head:  # the same inputs gave the same outputs: nothing new to release
        assert ci.origin_tags() == tags
        assert "up to date" in result.summary("retrain")
    else:
        assert "[skip ci]" in ci.origin_git("log", "-1", "--format=%B", ci.origin_head())
        assert len(new_tags(tags, ci.origin_tags())) == 1


def test_dispatch_dry_run_on_the_opt_in_cloud_runner_pushes_nothing(ci):
    # A pipeline change lands on develop (its own push build is not part of this test).
    on_develop(ci)
    ci.set_param("train", "C", "0.7")
    ci.commit_all("Tune C again")
    ci.push("develop")
    refs, comments = ci.origin_refs(), ci.comments()
    inputs = dispatch_inputs(dry_run="true", cloud_runner="true")

    result = ci.act(
        "workflow_dispatch",
        "retrain.yml",
        dispatch_payload(**inputs),
        inputs=inputs,
        variables={**OIDC, "CML_CLOUD_TYPE": "g4dn.xlarge"},
        secrets={"CML_RUNNER_TOKEN": "ghp_standin_runner_token"},
    )

    assert result.returncode == 0, result.explain()
    assert result.job_results() == {"launch-runner": "success", "retrain": "success"}
    launches = [r for r in ci.cml_records() if r["kind"] == "runner"]
    assert len(launches) == 1, launches
    options = launches[0]["options"]
    assert options["cloud"] == "aws" and options["cloud-type"] == "g4dn.xlarge"
    assert options["labels"] == "cml-retrain" and options["single"] is True
    assert launches[0]["token_set"] and launches[0]["aws_region"] == "us-east-1"
    assert ci.origin_refs() == refs, "no commit, no tag pushed"
    assert ci.comments() == comments, "a dry run comments nowhere"
    assert "dry run" in result.summary("retrain")


def test_dispatch_note_with_shell_metacharacters_lands_verbatim_and_runs_nothing(ci):
    canary = ci.root / "pwned"
    note = (
        f"nightly \"retrain\" $(touch {canary}) `touch {canary}`; touch {canary} && echo 'quoted' | cat "
        f"> {canary} $HOME ${{GITHUB_TOKEN}} \\ 100% <done>"
    )
    on_develop(ci)
    tags = ci.origin_tags()
    inputs = dispatch_inputs(note=note)

    result = ci.act("workflow_dispatch", "retrain.yml", dispatch_payload(**inputs), inputs=inputs, variables=OIDC)

    assert result.returncode == 0, result.explain()
    added = new_tags(tags, ci.origin_tags())
    assert len(added) == 1, added
    assert note in ci.tag_message(added[0]), ci.tag_message(added[0])
    assert not canary.exists(), "the note was executed"


def test_fork_pull_request_without_credentials_succeeds_and_says_the_remote_was_not_reachable(ci):
    ci.start_branch("fork-feature")
    ci.set_param("train", "C", "2.0")
    head = ci.commit_all("Weaker regularisation, from a fork")
    ci.push("HEAD:refs/pull/3/head")  # where GitHub keeps a fork's PR head
    refs, keys = ci.origin_refs(), ci.bucket_keys()

    # A fork's PR gets no secrets (GITHUB_TOKEN is read-only) and no OIDC token.
    result = ci.act(
        "pull_request", "pr.yml", ci.pull_request_payload(3, head, "fork-feature", "opened", fork=True), variables=OIDC
    )

    assert result.returncode == 0, result.explain()
    summary = result.summary("report")
    assert re.search(rf"remote `{REMOTE}` was not reachable", summary), summary
    assert "train.C" in summary, "params were still validated and compared"
    assert "configure-aws-credentials stand-in" not in result.log, "no credentials step ran"
    assert ci.comments_on("pr", 3) == [], "a read-only token cannot comment"
    assert ci.origin_refs() == refs
    assert ci.bucket_keys() == keys


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
    assert comments[0]["watermark"] == PR_TITLE
    assert comments[0]["driver"] == "github" and comments[0]["repo"] == "https://github.com/acme/ml-repo"
    assert METRICS_ROW.search(comments[0]["body"]), comments[0]["body"]
    assert ci.origin_refs() == refs


def test_travis_push_to_develop_retrains_tags_pushes_and_comments(ci):
    tags = ci.origin_tags()
    _, merge = ci.merge_pr(4, "travis-tune")

    result = ci.travis("push", commit=merge)

    assert result.returncode == 0, result.explain()
    head = ci.origin_head()
    assert ci.origin_git("rev-parse", f"{head}^") == merge
    assert "[skip ci]" in ci.origin_git("log", "-1", "--format=%B", head)
    added = new_tags(tags, ci.origin_tags())
    assert len(added) == 1 and ci.origin_tags()[added[0]] == head, added
    assert "app.travis-ci.com" in ci.tag_message(added[0]), "the Travis build URL is in the tag message"
    assert ci.missing_objects(head) == []
    travis_comments = [c for c in ci.comments_on("pr", 4) if c["watermark"] == TRAVIS_TITLE]
    assert len(travis_comments) == 1 and added[0] in travis_comments[0]["body"], ci.comments()
