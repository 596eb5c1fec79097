"""The real workflow files (.github/workflows/*.yml, run by act on the host) and .travis.yml, end to end.

One story against one origin and one bucket (see conftest.py; Travis and the scheduled ingest tell theirs beside it,
in test_workflows_travis.py and test_workflows_ingest.py): the scenarios run in this order and
each starts from where the previous one left develop. Each asserts on the bare origin (commits,
tags, tag messages), the moto bucket and the comments the CML stand-in recorded.

The forge model (tests/ci/forge.py) decides which workflows GitHub would start after each push (no run for a
GITHUB_TOKEN push, runs for an App's, none for a skip instruction, the branch and path filters) and which pushes a
protected develop takes. The first scenarios run on an unprotected develop with GITHUB_TOKEN (the fallback); from
"protected develop" on, develop has a ruleset with the GitHub App on its bypass list and the release uses the App.
"""

from __future__ import annotations

import hashlib
import re

import pytest
import yaml

from retrain.decisions import COMMIT_MARK, has_commit_mark
from tests.ci.conftest import (
    APP_IDENTITY,
    BUCKET,
    PREFIX,
    TOKEN,
    VENV,
    run,
)
from tests.ci.forge import MERGE_BUTTON, ConcurrencyGroup, skip_instruction, triggers
from tests.ci.story import (
    APP_SECRETS,
    APP_VARS,
    METRICS_ROW,
    OIDC,
    PR_PREFIX,
    PR_TITLE,
    RELEASE_TITLE,
    REMOTE,
    add_batch,
    dev_env,
    dispatch_inputs,
    dispatch_payload,
    has_release_trailer,
    new_tags,
    on_develop,
    protect_develop,
)
from tests.ci.test_static import SQUASH_QUOTING_THE_TRAILER

pytestmark = [pytest.mark.ci, pytest.mark.xdist_group("ci")]


def test_pr_opened_posts_one_comment_with_a_metrics_table(ci):
    ci.start_branch("tune-c")
    ci.set_param("train", "C", "0.5")
    head = ci.commit_all("Tune C: stronger regularisation")
    ci.push("tune-c")
    refs, keys = ci.origin_refs(), ci.bucket_keys()
    payload = ci.pull_request_payload(1, head, "tune-c", "opened")
    assert ci.forge.runs_for_pull_request(1) == ["pr.yml"]

    result = ci.act("pull_request", "pr.yml", payload, variables=OIDC)

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
    # Nothing left the organisation: no image uploaded to CML's public host, figures as tables, PNGs as the artifact.
    assert comment["published"] == [] and "](./" not in comment["body"], comment["body"]
    assert "### F1 per class" in comment["body"] and "### Confusion matrix" in comment["body"]
    assert "/actions/runs/" in comment["body"] and "`report-plots`" in comment["body"]
    plots = ci.state["artifacts"] / "report-plots"
    assert sorted(path.name for path in plots.iterdir()) == ["confusion.png", "per_class_f1.png"]
    assert METRICS_ROW.search(result.summary("report")), "the job summary has the report too"
    # Nothing released from a PR; what it computed went to the pull requests' own location, nothing where releases
    # read (the bucket listed before and after).
    assert ci.origin_refs() == refs
    added = ci.bucket_keys() - keys
    assert not [key for key in added if key.startswith(f"{PREFIX}/")], "the PR job wrote where releases read"
    assert any(key.startswith(f"{PR_PREFIX}/runs/") for key in added), added
    assert any(key.startswith(f"{PR_PREFIX}/files/md5/") for key in added), "the model it trained, for the opt-in"
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


def forge_pull_request_runs(ci, body: bytes) -> str:
    """An attacker's run-cache entries: every entry in the pull requests' location now names a planted model (uploaded
    beside them). Returns the planted object's md5."""
    planted = hashlib.md5(body).hexdigest()  # noqa: S324 (DVC's own object naming)
    ci.s3.put_object(Bucket=BUCKET, Key=f"{PR_PREFIX}/files/md5/{planted[:2]}/{planted[2:]}", Body=body)
    entries = [key for key in ci.bucket_keys() if key.startswith(f"{PR_PREFIX}/runs/")]
    assert entries
    for key in entries:
        entry = yaml.safe_load(ci.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        for out in entry.get("outs", []):
            if out["path"] == "models/model.joblib":
                out["md5"] = planted
        ci.s3.put_object(Bucket=BUCKET, Key=key, Body=yaml.safe_dump(entry).encode())
    return planted


def test_merge_to_develop_commits_the_lock_tags_pushes_and_comments_on_the_pr(ci):
    """Unprotected develop, no App configured: the release is pushed with GITHUB_TOKEN (the fallback), and that
    push starts no workflow run. By default the merge build trusts only the release remote's run-cache: it trains
    again, and a forged run-cache entry in the pull requests' location is never released."""
    tags = ci.origin_tags()
    ci.new_pushes()
    before, merge = ci.merge_pr(1, "tune-c")
    assert [workflow for workflow, _ in ci.runs_for(ci.new_pushes())] == ["retrain.yml"]
    planted = forge_pull_request_runs(ci, b"a planted model")

    result = ci.act("push", "retrain.yml", ci.push_payload(before, merge), variables=OIDC)

    assert result.returncode == 0, result.explain()
    assert re.search(r"ran [a-z, ]*train", result.log), "recomputed, not restored from the PR's run-cache"
    assert "trusting `s3remote-pr`" not in result.log
    assert yaml.safe_load(ci.origin_git("show", "develop:dvc.lock"))["stages"]["train"]["outs"][0]["md5"] != planted
    assert f"{PREFIX}/files/md5/{planted[:2]}/{planted[2:]}" not in ci.bucket_keys()
    assert result.job_results() in (
        {"release-branch": "success", "launch-runner": "skipped", "retrain": "success"},
        {"release-branch": "success", "retrain": "success"},
    ), result.job_results()
    assert "create-github-app-token stand-in" not in result.log, "no App configured"
    head = ci.origin_head()
    assert ci.origin_git("rev-parse", f"{head}^") == merge, "one commit on top of the merge"
    assert has_release_trailer(ci, head) and skip_instruction(ci.commit_message(head)) is None
    pushes = ci.new_pushes()
    assert {(p.ref, p.identity, p.kind) for p in pushes} >= {
        ("refs/heads/develop", "github-actions[bot]", "github_token")
    }
    assert ci.runs_for(pushes) == [], "GITHUB_TOKEN pushes start no workflow"
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
    assert "Merged into `develop` since" in release_comments[0]["body"] and ": #1." in release_comments[0]["body"]
    assert tag in result.summary("retrain")
    ci.state["released"] = tag


def test_pr_that_changes_no_pipeline_input_is_checked_green_without_reproducing(ci):
    """No path filter on pr.yml (a required check must never stay Pending): the job itself decides, quickly."""
    ci.start_branch("ignore-swap-files")
    (ci.dev / ".gitignore").write_text((ci.dev / ".gitignore").read_text() + "# editors\n*.swp\n")
    head = ci.commit_all("Ignore editor swap files")
    ci.push("ignore-swap-files")
    payload = ci.pull_request_payload(2, head, "ignore-swap-files", "opened")
    assert ci.forge.runs_for_pull_request(2) == ["pr.yml"], "no path filter skips it"
    keys = ci.bucket_keys()

    result = ci.act("pull_request", "pr.yml", payload, variables=OIDC)

    assert result.returncode == 0, result.explain()
    assert result.job_results() == {"report": "success"}
    assert "nothing to reproduce" in result.log and "pull what is needed" not in result.log
    comments = ci.comments_on("pr", 2)
    assert len(comments) == 1 and "Nothing to reproduce" in comments[0]["body"], comments
    assert ci.bucket_keys() == keys, "nothing pushed to the remote"


def test_merge_that_changes_nothing_in_the_pipeline_makes_no_commit_and_no_tag(ci):
    tags, comments = ci.origin_tags(), ci.comments()
    before, merge = ci.merge_pr(2, "ignore-swap-files")

    result = ci.act("push", "retrain.yml", ci.push_payload(before, merge), variables=OIDC)

    assert result.returncode == 0, result.explain()
    assert ci.origin_head() == merge, "no commit"
    assert ci.origin_tags() == tags, "no tag"
    assert ci.comments() == comments, "nothing to announce"
    assert "up to date" in result.summary("retrain")


def test_with_the_opt_in_the_merge_build_restores_what_the_pull_request_computed(ci):
    """Repository variable RETRAIN_TRUST_PR_RUNS=true (for teams that trust everyone who can push a branch): the merge
    build restores the pull request's stages from s3remote-pr instead of training them, and releases them."""
    ci.start_branch("tune-tol")
    ci.set_param("train", "C", "0.9")
    head = ci.commit_all("Tune C for the opt-in")
    ci.push("tune-tol")
    result = ci.act("pull_request", "pr.yml", ci.pull_request_payload(8, head, "tune-tol", "opened"), variables=OIDC)
    assert result.returncode == 0, result.explain()
    tags = ci.origin_tags()
    before, merge = ci.merge_pr(8, "tune-tol")

    result = ci.act(
        "push", "retrain.yml", ci.push_payload(before, merge), variables={**OIDC, "RETRAIN_TRUST_PR_RUNS": "true"}
    )

    assert result.returncode == 0, result.explain()
    assert "trusting `s3remote-pr` (opt-in)" in result.log
    assert re.search(r"restored from run-cache [a-z, ]*train", result.log), result.log[-3000:]
    assert not re.search(r"ran [a-z, ]*train", result.log)
    added = new_tags(tags, ci.origin_tags())
    assert len(added) == 1, added
    assert ci.missing_objects(ci.origin_head()) == [], "the release remote holds what the PR computed"


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
        assert has_release_trailer(ci, ci.origin_head())
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
        variables={
            **OIDC,
            "CML_CLOUD_TYPE": "g4dn.xlarge",
            "RUNNER_LAUNCH_ROLE_ARN": "arn:aws:iam::123456789012:role/retrain-runner-launch",
            "CML_RUNNER_INSTANCE_PROFILE": "retrain-runner-instance",
        },
        secrets={"CML_RUNNER_TOKEN": "ghp_standin_runner_token"},
    )

    assert result.returncode == 0, result.explain()
    assert result.job_results() == {"release-branch": "success", "launch-runner": "success", "retrain": "success"}
    launches = [r for r in ci.cml_records() if r["kind"] == "runner"]
    assert len(launches) == 1, launches
    options = launches[0]["options"]
    assert options["cloud"] == "aws" and options["cloud-type"] == "g4dn.xlarge"
    # A label of this run and attempt only (act's run id and attempt), the instance's rights from its profile.
    assert re.fullmatch(r"cml-retrain-\d+-\d+", options["labels"]) and options["single"] is True, options
    assert options["cloud-permission-set"] == "retrain-runner-instance"
    assert "reuse" not in options and "reuse-idle" not in options
    assert launches[0]["token_set"] and launches[0]["aws_region"] == "us-east-1"
    assert ci.origin_refs() == refs, "no commit, no tag pushed"
    assert ci.comments() == comments, "a dry run comments nowhere"
    assert "dry run" in result.summary("retrain")


def test_dispatch_note_with_shell_metacharacters_lands_verbatim_and_runs_nothing(ci):
    canary = ci.root / "pwned"
    note = (  # starts with "-": still the note (passed as --note=VALUE)
        f"--force -x nightly \"retrain\" $(touch {canary}) `touch {canary}`; touch {canary} && echo 'quoted' | cat "
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


def test_dependabot_pull_request_without_secrets_is_reported_like_a_fork(ci):
    """Dependabot's pull requests come from this repository but get no secrets and a read-only token (GitHub docs,
    "Automating Dependabot with GitHub Actions"): the job skips the AWS and comment steps and succeeds."""
    ci.start_branch("dependabot/pip/scikit-learn")
    ci.set_param("train", "C", "1.5")
    head = ci.commit_all("Bump a dependency (as Dependabot would)")
    ci.push("dependabot/pip/scikit-learn")
    keys = ci.bucket_keys()
    payload = ci.pull_request_payload(9, head, "dependabot/pip/scikit-learn", "opened")
    payload["pull_request"]["user"] = {"login": "dependabot[bot]"}

    result = ci.act("pull_request", "pr.yml", payload, variables=OIDC)

    assert result.returncode == 0, result.explain()
    assert re.search(rf"remote `{REMOTE}` was not reachable", result.summary("report")), result.summary("report")
    assert "configure-aws-credentials stand-in" not in result.log and ci.comments_on("pr", 9) == []
    assert ci.bucket_keys() == keys


def test_protected_develop_refuses_github_token_and_developers(ci):
    """From here on develop has a ruleset (pull requests only) with the release App on its bypass list, and the
    repository has the App's client id (variable) and key (secret), as docs/ci.md sets them up."""
    protect_develop(ci)
    head = on_develop(ci)
    (ci.dev / "NOTES").write_text("a direct change\n")
    ci.commit_all("A direct change")
    for refused in (ci.push("develop", check=False), ci.push("develop", check=False, token=TOKEN)):
        assert refused.returncode != 0 and "GH013" in refused.stderr, refused.stderr
    ci.git("reset", "--quiet", "--hard", head)
    assert ci.origin_head() == head


def test_a_batch_pushed_to_the_wrong_remote_gets_a_comment_naming_it_and_the_fix(ci):
    """A developer's plain `dvc push` goes to the default remote (`local`): CI cannot read the batch. The check
    fails (the merge would), and its comment names the batch and the one command that fixes it."""
    ci.start_branch("batch-a")
    batch_a = add_batch(ci, rows=300, seed=31)
    run([VENV / "bin" / "dvc", "push", "--quiet", "-r", REMOTE, f"{batch_a}.dvc"], cwd=ci.dev, env=dev_env(ci))
    ci.push("batch-a")
    ci.pull_request_payload(5, ci.git("rev-parse", "HEAD"), "batch-a", "opened")
    ci.start_branch("batch-b")
    batch_b = add_batch(ci, rows=300, seed=32)
    run([VENV / "bin" / "dvc", "push", "--quiet"], cwd=ci.dev, env=dev_env(ci))  # the default remote: `local`
    head = ci.git("rev-parse", "HEAD")
    ci.push("batch-b")

    result = ci.act("pull_request", "pr.yml", ci.pull_request_payload(6, head, "batch-b", "opened"), variables=OIDC)

    assert result.returncode != 0 and result.job_results() == {"report": "failure"}, result.explain()
    comments = ci.comments_on("pr", 6)
    assert len(comments) == 1, comments
    fix = f"dvc push -r {REMOTE} {batch_b}.dvc"
    assert batch_b in comments[0]["body"] and f"`{fix}`" in comments[0]["body"], comments[0]["body"]
    assert "Traceback" not in result.log
    # The command, as the comment gives it, run by the developer: the batch is where CI reads it.
    run(fix.split(), cwd=ci.dev, env=dev_env(ci))
    md5 = ci.git("show", f"HEAD:{batch_b}.dvc").split("md5: ", 1)[1].split()[0]
    assert f"artifact-versioning/files/md5/{md5[:2]}/{md5[2:]}" in ci.bucket_keys()
    ci.state["batches"] = [batch_a, batch_b]


def test_two_merges_one_release_on_protected_develop_comment_on_both_prs(ci):
    """Both data pull requests merged by GitHub's merge button (no merge driver): two pushes start two retrain runs;
    GitHub's concurrency replaces the pending first one, and the second releases both batches, pushed with the App's
    token. Its report lands on both merged pull requests, not on the open develop -> main pull request that also
    contains the commits."""
    on_develop(ci)
    ci.push("develop:main", actor="admin")  # main: what is in production (unprotected in this model)
    ci.pull_request_payload(7, ci.origin_head(), "develop", "opened", base="main")
    tags, refs = ci.origin_tags(), ci.origin_refs()
    ci.new_pushes()
    ci.merge_pr(5, "batch-a")
    before, merge = ci.merge_pr(6, "batch-b")
    runs = ci.runs_for(ci.new_pushes())
    assert [(workflow, push.identity) for workflow, push in runs] == [("retrain.yml", MERGE_BUTTON)] * 2
    group = ConcurrencyGroup(running="retrain of an earlier push")
    for _, push in runs:
        group.queue(push.new)
    assert group.replaced == [runs[0][1].new] and group.finish() == merge, "the first merge's run never runs"

    # Without the App (its variable unset) the push is GITHUB_TOKEN's, which the ruleset refuses: the run stops at
    # once (no catch-up and retry), saying what to configure; nothing reaches origin.
    refused = ci.act("push", "retrain.yml", ci.push_payload(before, merge), variables=OIDC)
    assert refused.returncode != 0 and ci.origin_refs() == {**refs, "refs/heads/develop": merge}, refused.explain()
    assert "GH013" in refused.log and "docs/ci.md" in refused.log and "catching up" not in refused.log
    assert ci.origin_tags() == tags and ci.new_pushes() == []

    # Re-run with the App configured (its stages come back from the run-cache the first attempt pushed).
    result = ci.act("push", "retrain.yml", ci.push_payload(before, merge), variables=APP_VARS, secrets=APP_SECRETS)

    assert result.returncode == 0, result.explain()
    assert "restored from run-cache" in result.log
    assert "create-github-app-token stand-in: token for acme/ml-repo" in result.log
    head = ci.origin_head()
    added = new_tags(tags, ci.origin_tags())
    assert len(added) == 1 and ci.origin_tags()[added[0]] == head and refs["refs/heads/develop"] != head
    assert ci.origin_git("rev-parse", f"{head}^") == merge and has_release_trailer(ci, head)
    tree = ci.origin_git("ls-tree", "--name-only", "-r", head, "data/raw").split()
    assert all(f"{batch}.dvc" in tree for batch in ci.state["batches"]), "the release holds both batches"
    assert ci.missing_objects(head) == []
    pushes = ci.new_pushes()
    assert {(p.ref, p.identity, p.kind) for p in pushes} == {
        ("refs/heads/develop", APP_IDENTITY, "app"),
        (f"refs/tags/{added[0]}", APP_IDENTITY, "app"),
    }
    # App pushes start workflows: the branch push starts retrain.yml (see the next test), the tag push nothing.
    assert [(workflow, push.ref) for workflow, push in ci.runs_for(pushes)] == [("retrain.yml", "refs/heads/develop")]
    for number in (5, 6):
        comments = [c for c in ci.comments_on("pr", number) if c["watermark"] == RELEASE_TITLE]
        assert len(comments) == 1, (number, ci.comments())
        assert added[0] in comments[0]["body"] and ": #5, #6." in comments[0]["body"], comments[0]["body"]
    assert not [c for c in ci.comments_on("pr", 7) if c["watermark"] == RELEASE_TITLE], "not the open PR"
    listed = [r for r in ci.api.requests() if r["path"] == "/repos/acme/ml-repo/pulls"]
    assert listed and all(r["query"]["state"] == "closed" and r["query"]["base"] == "develop" for r in listed)
    ci.state["protected_release"] = {"merge": merge, "head": head, "tag": added[0]}


def test_the_push_of_the_release_commit_starts_a_run_that_releases_nothing(ci):
    release = ci.state["protected_release"]
    assert on_develop(ci) == release["head"]
    refs, comments = ci.origin_refs(), ci.comments()

    result = ci.act(
        "push",
        "retrain.yml",
        ci.push_payload(release["merge"], release["head"]),
        variables=APP_VARS,
        secrets=APP_SECRETS,
    )

    assert result.returncode == 0, result.explain()
    assert result.job_results() == {}, "every job skipped by the job-level condition: no runner at all"
    assert ci.origin_refs() == refs and ci.comments() == comments
    assert ci.new_pushes() == []


def test_a_squash_merge_quoting_the_trailer_in_its_body_passes_the_guard(ci):
    """Only the message's final line counts: a squash merge that quotes `Retrain-Commit: release` in its body is a
    merge to release (the guard job runs; act's own evaluation of the expression, the guard job alone). act's `-j`
    selects only a caller's own jobs, so the guard job runs verbatim out of release.yml in a push workflow of one job
    (the event context a called job sees is its caller's)."""
    release = ci.state["protected_release"]
    message = SQUASH_QUOTING_THE_TRAILER
    assert not has_commit_mark(message) and COMMIT_MARK in message
    payload = ci.push_payload(release["merge"], release["head"], message=message)
    guard = yaml.safe_load((ci.dev / ".github/workflows/release.yml").read_text())["jobs"]["release-branch"]
    only = {"name": "retrain", "on": {"push": {"branches": ["develop"]}}, "jobs": {"release-branch": guard}}
    ci.write(".github/workflows/guard-only.yml", yaml.safe_dump(only, sort_keys=False, width=1_000_000))
    try:
        result = ci.act(
            "push", "guard-only.yml", payload, variables=APP_VARS, secrets=APP_SECRETS, job="release-branch"
        )
    finally:
        (ci.dev / ".github/workflows/guard-only.yml").unlink()

    assert result.returncode == 0, result.explain()
    assert result.job_results() == {"release-branch": "success"}, result.explain()
    assert "Releasing from develop." in result.log


def test_a_develop_to_main_pull_request_whose_head_is_the_release_commit_runs_its_checks(ci):
    """`[skip ci]` on the release commit would leave this pull request's required checks Pending."""
    release = ci.state["protected_release"]
    payload = ci.pull_request_payload(7, release["head"], "develop", "synchronize", base="main")
    assert ci.forge.runs_for_pull_request(7) == ["pr.yml"]
    refs = ci.origin_refs()

    result = ci.act("pull_request", "pr.yml", payload, variables=OIDC)

    assert result.returncode == 0 and result.job_results() == {"report": "success"}, result.explain()
    comments = [c for c in ci.comments_on("pr", 7) if c["watermark"] == PR_TITLE]
    assert len(comments) == 1, ci.comments_on("pr", 7)
    assert f"This head is the release {release['tag']}" in comments[0]["body"], comments[0]["body"]
    assert "origin/main" in comments[0]["body"]
    assert ci.origin_refs() == refs


def test_a_manual_run_from_a_feature_branch_is_refused(ci):
    ci.start_branch("feature-dispatch")
    ci.push("feature-dispatch")
    refs, comments, launches = ci.origin_refs(), ci.comments(), len(ci.cml_records())
    inputs = dispatch_inputs(cloud_runner="true")
    payload = {**dispatch_payload(**inputs), "ref": "refs/heads/feature-dispatch"}

    result = ci.act("workflow_dispatch", "retrain.yml", payload, inputs=inputs, variables=APP_VARS, secrets=APP_SECRETS)

    assert result.returncode != 0
    jobs = result.job_results()
    assert jobs.pop("release-branch") == "failure" and set(jobs.values()) <= {"skipped"}, result.explain()
    # The summary, not the step's log: act in host mode can drop the output of a step that ends in milliseconds.
    refused = "Releases are made from develop only, and this run is on feature-dispatch"
    assert refused in result.summary("release-branch")
    assert len(ci.cml_records()) == launches, "no cloud runner started, nothing posted"
    assert ci.origin_refs() == refs and ci.comments() == comments


def test_a_tag_pushed_by_anyone_but_the_app_is_refused_and_starts_nothing(ci):
    """A forged stage tag on an old commit: the tag ruleset refuses it (GH013) to a developer and to GITHUB_TOKEN,
    and no workflow would run for it anyway (no workflow has a tag trigger)."""
    tags = ci.origin_tags()
    old = tags[sorted(tags)[0]]
    ci.git("tag", "-a", "model#prod#99", "-m", "forged", old)
    for who in ({}, {"token": TOKEN}):
        refused = ci.push("model#prod#99", check=False, **who)
        assert refused.returncode != 0 and "GH013" in refused.stderr, refused.stderr
        assert "creations being restricted" in refused.stderr
    ci.git("tag", "-d", "model#prod#99")
    assert ci.origin_tags() == tags
    assert ci.forge.workflows_at(ci.origin_head()) and not any(
        "tags" in (on.get("push") or {}) for on in map(triggers, ci.forge.workflows_at(ci.origin_head()).values())
    )
