"""The CML stand-in behaves like CML 0.20.6 where the workflows depend on it (see cml_standin.py)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.helpers import sh

CML = Path(__file__).resolve().parent / "bin" / "cml"
FAKE = "t"  # a token value: the stand-in only checks that one is set


@pytest.fixture
def repo(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    work = tmp_path / "work"
    work.mkdir()
    for args in (
        ["init", "-q"],
        ["remote", "add", "origin", "https://x-access-token:secret@github.com/acme/ml-repo.git"],
        ["commit", "-q", "--allow-empty", "-m", "one"],
    ):
        sh(["git", *args], work, env)
    (work / "reports").mkdir()
    (work / "reports" / "plot.png").write_bytes(b"\x89PNG fake")
    (work / "reports" / "report.md").write_text(
        "| metric | value |\n|---|---|\n| accuracy | 0.95 |\n\n![p](plot.png)\n"
    )
    sha = sh(["git", "rev-parse", "HEAD"], work, env).stdout
    env |= {"CI_STANDIN_CML_LOG": str(tmp_path / "log.jsonl"), "CI_STANDIN_CML_COMMIT_PRS": str(tmp_path / "prs.json")}
    return work, env, sha.strip()


def cml(repo, *args, **env):
    work, base, _ = repo
    merged = {**base, **{k: str(v) for k, v in env.items()}}
    return sh([CML, *args], work, merged, check=False)


def records(repo) -> list[dict]:
    path = Path(repo[1]["CI_STANDIN_CML_LOG"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def pr_event(repo, number: int) -> dict:
    work, _, sha = repo
    path = work.parent / "event.json"
    path.write_text(json.dumps({"pull_request": {"number": number, "head": {"sha": sha}}}))
    return {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": path, "GITHUB_TOKEN": FAKE}


@pytest.mark.parametrize(
    "args",
    [
        ["comment", "create", "reports/report.md", "--no-such-option"],
        ["comment", "delete", "reports/report.md"],
        ["comment", "create"],
        ["send-pr", "x"],
        ["runner", "launch", "--cloud=ibm"],
        ["comment", "create", "reports/report.md", "--watermark-title"],
        ["--driver=gitea", "comment", "create", "reports/report.md"],
    ],
)
def test_rejects_what_cml_does_not_document(repo, args):
    result = cml(repo, *args, GITHUB_TOKEN=FAKE)
    assert result.returncode != 0
    assert records(repo) == []


def test_fails_without_a_token(repo):
    result = cml(repo, "comment", "create", "reports/report.md")
    assert result.returncode != 0 and "token not found" in result.stderr


def test_update_edits_the_comment_with_the_same_watermark_title_else_creates(repo):
    event = pr_event(repo, 7)
    for _ in range(2):
        assert cml(repo, "comment", "update", "reports/report.md", "--watermark-title=report", **event).returncode == 0
    assert cml(repo, "comment", "update", "reports/report.md", "--watermark-title=other", **event).returncode == 0
    assert cml(repo, "comment", "create", "reports/report.md", "--watermark-title=report", **event).returncode == 0
    seen = [(r["action"], r["comment_id"], r["target"]["id"]) for r in records(repo)]
    assert seen == [("create", 1, "7"), ("update", 1, "7"), ("create", 2, "7"), ("create", 3, "7")]
    body = records(repo)[0]["body"]
    assert body.endswith(f'![](https://cml.dev/watermark.png#{repo[2]} "CML watermark report")')
    assert "https://asset.cml.dev/" in body and "(plot.png)" not in body, "local images are published"


def test_automatic_target_on_push_is_the_associated_pr_else_a_commit(repo):
    _, env, sha = repo
    push = {"GITHUB_EVENT_NAME": "push", "GITHUB_SHA": sha, "REPO_TOKEN": FAKE}
    assert cml(repo, "comment", "create", "reports/report.md", **push).returncode == 0
    Path(env["CI_STANDIN_CML_COMMIT_PRS"]).write_text(json.dumps({sha: 12}))
    assert cml(repo, "comment", "create", "reports/report.md", **push).returncode == 0
    assert [r["target"] for r in records(repo)] == [{"type": "commit", "id": sha}, {"type": "pr", "id": "12"}]
    assert records(repo)[0]["repo"] == "https://github.com/acme/ml-repo", "credentials stripped from the URL"


def test_target_pr_without_a_pr_fails_like_cml(repo):
    _, _, sha = repo
    result = cml(repo, "comment", "create", "reports/report.md", "--target=pr", GITHUB_SHA=sha, GITHUB_TOKEN=FAKE)
    assert result.returncode != 0 and f'PR for commit sha "{sha}" not found' in result.stderr


def test_runner_launch_needs_aws_credentials_for_aws(repo):
    args = ["runner", "launch", "--cloud=aws", "--cloud-type=m5.large", "--labels=gpu", "--single"]
    assert cml(repo, *args, REPO_TOKEN=FAKE).returncode != 0
    ok = cml(repo, *args, REPO_TOKEN=FAKE, AWS_ACCESS_KEY_ID="a", AWS_SECRET_ACCESS_KEY=FAKE)
    assert ok.returncode == 0, ok.stderr
    assert records(repo)[-1]["options"] == {"cloud": "aws", "cloud-type": "m5.large", "labels": "gpu", "single": True}


def test_the_module_documents_why_it_exists():
    sys.path.insert(0, str(CML.parent.parent))
    try:
        import cml_standin
    finally:
        sys.path.pop(0)
    assert "@dvcorg/cml" in cml_standin.__doc__ and "cannot be installed" in cml_standin.__doc__


@pytest.fixture
def github_repo(repo):
    """`repo`, its origin a bare repository standing in for https://github.com/acme/ml-repo.git."""
    work, env, _ = repo
    server = work.parent / "github"
    sh(["git", "init", "-q", "--bare", server / "acme" / "ml-repo.git"], work, env)
    sh(["git", "config", f"url.{server}/.insteadOf", "https://github.com/"], work, env)
    sh(["git", "remote", "set-url", "origin", "https://github.com/acme/ml-repo.git"], work, env)
    sh(["git", "push", "-q", "origin", "HEAD:refs/heads/develop", "HEAD:refs/heads/ingest/landing"], work, env)
    return repo


def test_pr_create_opens_one_pull_request_per_branch_and_finds_the_open_one(github_repo):
    args = ["pr", "create", "--branch=ingest/landing", "--target-branch=develop", "--title=Data", "--body=b"]
    opened = cml(github_repo, *args, REPO_TOKEN=FAKE)
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.strip() == "https://github.com/acme/ml-repo/pull/100"
    again = cml(github_repo, *args, REPO_TOKEN=FAKE)
    assert again.stdout.strip() == opened.stdout.strip() and "already exists" in again.stderr
    prs = [r for r in records(github_repo) if r["kind"] == "pr"]
    assert [(p["number"], p["source"], p["target"], p["title"]) for p in prs] == [
        (100, "ingest/landing", "develop", "Data")
    ]

    with Path(github_repo[1]["CI_STANDIN_CML_LOG"]).open("a") as log:  # the pull request is merged and closed
        log.write(json.dumps({"kind": "pr", "action": "close", "number": 100}) + "\n")
    assert cml(github_repo, *args, REPO_TOKEN=FAKE).stdout.strip().endswith("/pull/101")


def test_pr_create_refuses_what_it_cannot_do_like_cml(github_repo):
    missing = cml(github_repo, "pr", "create", "--branch=x", "--target-branch=nope", REPO_TOKEN=FAKE)
    assert missing.returncode == 1 and "The target branch does not exist." in missing.stderr
    assert cml(github_repo, "pr", "create", "--branch=x", "--target-branch=develop").returncode == 1, "no token"
    assert cml(github_repo, "pr", "create", "dvc.lock", REPO_TOKEN=FAKE).returncode == 1, "paths: not emulated"
