"""The forge model itself (tests/ci/forge.py, fake_github.py): GitHub's rules, each checked against a real bare
repository with the model's hooks, and against this repository's own workflow files. Fast: no act, no DVC."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import pytest

from retrain import decisions
from tests.ci.fake_github import FakeGitHub
from tests.ci.forge import (
    MERGE_BUTTON,
    ConcurrencyGroup,
    Forge,
    ReusableWorkflowError,
    called_jobs,
    matches,
    oidc_subject,
    paths_filter_allows,
    ref_filter_allows,
    skip_instruction,
)
from tests.helpers import REPO_ROOT, sh

APP = "acme-retrain[bot]"
GITHUB_TOKEN = "ghs_jobtoken"  # noqa: S105 (fakes)
APP_TOKEN = "ghs_app_token"  # noqa: S105
READ_ONLY = "ghs_readonly"
UNKNOWN = "ghs_unknown"
DISPATCH_TOKEN = "github_pat_dispatch"  # noqa: S105 (fakes)
COMMENT_TOKEN = "github_pat_comment"  # noqa: S105


def test_skip_instructions_are_githubs_and_the_engines_mark_is_none():
    # "Skipping workflow runs": the five bracketed forms anywhere, or a final `skip-checks: true` trailer
    for message in ("x [skip ci]", "[ci skip] x", "[no ci]", "a [skip actions]", "[actions skip]"):
        assert skip_instruction(message)
    assert skip_instruction("subject\n\nskip-checks: true")
    assert not skip_instruction("subject\n\nskip-checks: true\n\nmore text")
    assert not skip_instruction(decisions.commit_message(5, {"train.C": (1, 2)}, "accuracy", 0.9, {}))


def test_filter_patterns_and_ref_and_path_filters():
    assert matches(["develop"], "develop") and not matches(["develop"], "develop2")
    assert matches(["docs/**"], "docs/a/b.md") and matches(["**.md"], "README.md") and matches(["*.md"], "a.md")
    assert not matches(["*.md"], "docs/a.md") and matches(["feature/*", "!feature/x"], "feature/y")
    assert not matches(["feature/*", "!feature/x"], "feature/x")
    branches_only = {"branches": ["develop"]}
    assert ref_filter_allows(branches_only, "refs/heads/develop")
    assert not ref_filter_allows(branches_only, "refs/tags/model@v1.0.0"), "only branch filters: no tag run"
    assert not ref_filter_allows({"tags": ["v*"]}, "refs/heads/develop"), "only tag filters: no branch run"
    assert ref_filter_allows({}, "refs/tags/model@v1.0.0")
    ignore_docs = {"paths-ignore": ["docs/**", "**.md"]}
    assert not paths_filter_allows(ignore_docs, ["docs/ci.md", "README.md"]), "skipped: its check stays Pending"
    assert paths_filter_allows(ignore_docs, ["docs/ci.md", "params.yaml"])
    assert paths_filter_allows({"paths": ["src/**"]}, ["src/a.py"]) and not paths_filter_allows(
        {"paths": ["src/**"]}, []
    )


def test_a_pending_run_is_replaced_by_the_next_one():
    group = ConcurrencyGroup()
    group.queue("push of merge #4")  # runs
    group.queue("push of merge #5")  # pending
    group.queue("push of merge #6")  # replaces #5
    assert group.replaced == ["push of merge #5"]
    assert group.finish() == "push of merge #6"


@pytest.fixture
def forge(tmp_path: Path) -> tuple[Forge, Path]:
    """A bare origin holding this repository's workflow files on develop, with the forge's hooks."""
    origin, work = tmp_path / "origin.git", tmp_path / "work"
    sh(["git", "init", "--quiet", "--bare", "--initial-branch=develop", origin])
    sh(["git", "init", "--quiet", "--initial-branch=develop", work])
    (work / ".github").mkdir()
    sh(["cp", "-r", REPO_ROOT / ".github" / "workflows", work / ".github"])
    (work / "params.yaml").write_text("train:\n  C: 1.0\n")
    sh(["git", "add", "-A"], work)
    sh(["git", "commit", "--quiet", "-m", "seed"], work)
    sh(["git", "remote", "add", "origin", origin], work)
    made = Forge(tmp_path / "forge", origin, "acme/ml-repo")
    made.install()
    made.register_token(GITHUB_TOKEN, "github-actions[bot]", "github_token", {"contents": "write"})
    made.register_token(APP_TOKEN, APP, "app", {"contents": "write", "pull_requests": "write"})
    made.register_token(READ_ONLY, APP, "app", {"contents": "read"})
    push(work, "develop", actor="admin")
    return made, work


def push(work: Path, *refspecs: str, actor: str | None = None, token: str | None = None, check: bool = True):
    env = {**_env(), **({"FORGE_ACTOR": actor} if actor else {}), **({"FORGE_TOKEN": token} if token else {})}
    return sh(["git", "push", "--quiet", "origin", *refspecs], work, env, check)


def _env() -> dict:
    from tests.helpers import base_env

    return {key: value for key, value in base_env().items() if not key.startswith("FORGE_")}


def commit(work: Path, message: str, name: str = "params.yaml", text: str | None = None) -> str:
    path = work / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else path.read_text() + "# change\n" if path.exists() else "x\n")
    sh(["git", "add", "-A"], work)
    sh(["git", "commit", "--quiet", "-m", message], work)
    return sh(["git", "rev-parse", "HEAD"], work).stdout.strip()


def test_protected_develop_takes_pushes_from_the_app_and_the_merge_button_only(forge):
    made, work = forge
    made.protect("develop", bypass=[APP])
    commit(work, "direct change")
    for who in ({"actor": "dee-veloper"}, {"token": GITHUB_TOKEN}):
        refused = push(work, "develop", check=False, **who)
        assert refused.returncode != 0 and "GH013" in refused.stderr, refused.stderr
    refused = push(work, "develop", token=READ_ONLY, check=False)
    assert "Permission to acme/ml-repo.git denied" in refused.stderr, "a token without contents: write"
    push(work, "HEAD:refs/heads/feature", actor="dee-veloper")  # other branches are not protected
    push(work, "develop", token=APP_TOKEN)
    commit(work, "Merge pull request #3 from acme/feature")
    push(work, "develop", actor=MERGE_BUTTON)
    assert [(p.ref, p.identity, p.kind) for p in made.pushes()][-3:] == [
        ("refs/heads/feature", "dee-veloper", "user"),
        ("refs/heads/develop", APP, "app"),
        ("refs/heads/develop", MERGE_BUTTON, "user"),
    ]
    with pytest.raises(AssertionError):
        made.protect("develop", bypass=["github-actions[bot]"])  # GitHub offers no such thing


def test_the_receive_pack_wrapper_pushes_as_the_token_of_the_clones_extraheader(forge):
    """What actions/checkout's persisted credentials are: an Authorization header; the forge reads the token there."""
    import base64

    made, work = forge
    made.protect("develop", bypass=[APP])
    header = base64.b64encode(f"x-access-token:{APP_TOKEN}".encode()).decode()
    sh(["git", "config", "http.https://github.com/.extraheader", f"AUTHORIZATION: basic {header}"], work)
    sh(["git", "config", "remote.origin.receivepack", made.receive_pack], work)
    commit(work, "by the app")
    push(work, "develop")
    assert made.pushes()[-1].identity == APP


def test_which_runs_github_starts_after_a_push(forge):
    made, work = forge
    merge = commit(work, "Merge pull request #3 from acme/feature")
    push(work, "develop", actor=MERGE_BUTTON)
    assert made.runs_for_push(made.pushes()[-1]) == ["retrain.yml"]
    # the release, pushed with GITHUB_TOKEN: no run at all ("Triggering a workflow from a workflow")
    release = commit(work, decisions.commit_message(5, {}, "accuracy", 0.9, {}), "dvc.lock", "lock\n")
    sh(["git", "tag", "-a", "model@v1.0.0", "-m", "Release"], work)
    push(work, "develop", "model@v1.0.0", token=GITHUB_TOKEN)
    assert [made.runs_for_push(p) for p in made.pushes()[-2:]] == [[], []]
    # the same with the App's token: retrain.yml starts for the branch (its job-level `if:` then skips it); the tag
    # starts nothing (branches-only filter)
    sh(["git", "reset", "--quiet", "--hard", merge], work)
    again = commit(work, decisions.commit_message(6, {}, "accuracy", 0.9, {}), "dvc.lock", "lock 2\n")
    sh(["git", "tag", "-a", "model@v1.0.1", "-m", "Release"], work)
    push(work, "+develop", "model@v1.0.1", token=APP_TOKEN)
    branch, tag = made.pushes()[-2:]
    assert (branch.ref, tag.ref) == ("refs/heads/develop", "refs/tags/model@v1.0.1")
    assert made.runs_for_push(branch) == ["retrain.yml"] and made.runs_for_push(tag) == []
    assert release != again
    # a skip instruction in the head commit: nothing starts (and a required check would stay Pending)
    commit(work, "Docs [skip ci]", "docs/a.md", "a\n")
    push(work, "develop", actor="admin")
    assert made.runs_for_push(made.pushes()[-1]) == []


def test_which_runs_github_starts_for_a_pull_request(forge):
    made, work = forge
    push(work, "develop:main", actor="admin")
    release = commit(work, decisions.commit_message(5, {}, "accuracy", 0.9, {}), "dvc.lock", "lock\n")
    push(work, "develop", actor="admin")
    made.open_pull(9, "develop", release, base="main")
    assert made.runs_for_pull_request(9) == ["pr.yml"], "the release commit skips nothing"
    assert made.runs_for_pull_request(9, opened_with="github_token") == []
    docs = commit(work, "Docs only", "docs/a.md", "a\n")
    push(work, "HEAD:refs/heads/docs", actor="admin")
    made.open_pull(10, "docs", docs, base="develop")
    assert made.runs_for_pull_request(10) == ["pr.yml"], "no path filter: a docs-only pull request is checked too"
    skipped = commit(work, "WIP [ci skip]", "docs/b.md", "b\n")
    push(work, "HEAD:refs/heads/docs", actor="admin")
    made.open_pull(11, "docs", skipped, base="develop")
    assert made.runs_for_pull_request(11) == []


def test_the_fake_api_lists_pull_requests_like_github(forge):
    made, work = forge
    push(work, "develop:main", actor="admin")
    first = commit(work, "one")
    push(work, "HEAD:refs/heads/one", actor="admin")
    made.open_pull(1, "one", first)
    push(work, "develop", actor=MERGE_BUTTON)
    made.mark_merged(1, first)
    second = commit(work, "two")
    push(work, "HEAD:refs/heads/two", actor="admin")
    made.open_pull(2, "two", second)
    made.open_pull(3, "develop", first, base="main")
    api = FakeGitHub(made.state_file).start()
    try:

        def get(path: str, token: str | None = APP_TOKEN):
            headers = {"Authorization": f"Bearer {token}"}
            request = urllib.request.Request(api.url + path, headers=headers)  # noqa: S310 (the local fake)
            try:
                with urllib.request.urlopen(request) as response:  # noqa: S310 (the local fake)
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, None

        status, closed = get("/repos/acme/ml-repo/pulls?state=closed&base=develop&sort=updated&direction=desc")
        assert status == 200 and [p["number"] for p in closed] == [1] and closed[0]["merge_commit_sha"] == first
        assert [p["number"] for p in get("/repos/acme/ml-repo/pulls")[1]] == [3, 2], "open, newest first"
        assert [p["number"] for p in get("/repos/acme/ml-repo/pulls?state=all&per_page=1&page=2")[1]] == [2]
        associated = get(f"/repos/acme/ml-repo/commits/{first}/pulls")[1]
        assert [p["number"] for p in associated] == [3, 1], "an open pull request containing it comes first"
        assert get("/repos/acme/ml-repo/pulls", UNKNOWN)[0] == 401
    finally:
        api.stop()


def test_the_tag_ruleset_lets_only_the_release_app_create_update_or_delete_model_tags(forge):
    """docs/ci.md's tag ruleset: only the release App may create, update or delete `model@*` and `model#*` tags;
    anyone else (a developer, GITHUB_TOKEN, a fine-grained token) is refused with GitHub's GH013."""
    made, work = forge
    made.protect_tags(["model@*", "model#*"], bypass=[APP])
    made.register_token(DISPATCH_TOKEN, "travis-bot", "fine_grained", {"actions": "write"})
    commit(work, "a release")
    sh(["git", "tag", "-a", "model#prod#1", "-m", "forged stage tag"], work)
    sh(["git", "tag", "-a", "model@v9.0.0", "-m", "forged release"], work)
    for tag in ("model#prod#1", "model@v9.0.0"):
        for who in ({"actor": "dee-veloper"}, {"token": GITHUB_TOKEN}):
            refused = push(work, tag, check=False, **who)
            assert refused.returncode != 0, (tag, who)
            assert "GH013" in refused.stderr and "creations being restricted" in refused.stderr, refused.stderr
    refused = push(work, "model#prod#1", token=DISPATCH_TOKEN, check=False)
    assert "Permission to acme/ml-repo.git denied" in refused.stderr, "a dispatch-only token pushes nothing"
    push(work, "model#prod#1", token=APP_TOKEN)  # the App, on the bypass list
    sh(["git", "tag", "-f", "-a", "model#prod#1", "-m", "moved", "HEAD~1"], work)
    moved = push(work, "+model#prod#1", actor="dee-veloper", check=False)
    assert "GH013" in moved.stderr and "Cannot update this protected ref" in moved.stderr, moved.stderr
    deleted = push(work, ":refs/tags/model#prod#1", actor="dee-veloper", check=False)
    assert "GH013" in deleted.stderr and "Cannot delete this protected ref" in deleted.stderr, deleted.stderr
    push(work, "+model#prod#1", token=APP_TOKEN)  # the App may update it, and delete it
    push(work, ":refs/tags/model#prod#1", token=APP_TOKEN)
    sh(["git", "tag", "v1-notes", "HEAD"], work)
    push(work, "v1-notes", actor="dee-veloper")  # other tags are not the ruleset's
    assert [(p.ref, p.identity) for p in made.pushes()][-4:] == [
        ("refs/tags/model#prod#1", APP),
        ("refs/tags/model#prod#1", APP),
        ("refs/tags/model#prod#1", APP),
        ("refs/tags/v1-notes", "dee-veloper"),
    ]
    with pytest.raises(AssertionError):
        made.protect_tags(["model#*"], bypass=["github-actions[bot]"])  # GitHub offers no such thing


def _dispatch(api: FakeGitHub, token: str, *args: str) -> tuple[int, str]:
    from tests.helpers import base_env

    env = {**base_env(), "GITHUB_API_URL": api.url, "GITHUB_DISPATCH_TOKEN": token}
    script = REPO_ROOT / "scripts" / "dispatch_workflow.py"
    result = sh([sys.executable, script, *args, "--repo", "acme/ml-repo"], REPO_ROOT, env, check=False)
    return result.returncode, result.stdout + result.stderr


def test_travis_hands_the_release_to_github_with_a_token_that_can_only_dispatch(forge):
    """scripts/dispatch_workflow.py, as .travis.yml's develop and cron builds call it, against the fake API: GitHub
    accepts the dispatch of retrain.yml (and ingest.yml) on develop from an Actions: write token, and refuses what
    GitHub refuses; the same token can push nothing."""
    made, work = forge
    made.register_token(DISPATCH_TOKEN, "travis-bot", "fine_grained", {"actions": "write"})
    made.register_token(COMMENT_TOKEN, "travis-bot", "fine_grained", {"pull_requests": "write"})
    api = FakeGitHub(made.state_file).start()
    try:
        code, out = _dispatch(api, DISPATCH_TOKEN, "retrain.yml", "--ref", "develop")
        assert code == 0 and "dispatched retrain.yml on develop of acme/ml-repo" in out, out
        code, out = _dispatch(api, DISPATCH_TOKEN, "ingest.yml", "--ref", "develop")
        assert code == 0, out
        develop = sh(["git", "rev-parse", "HEAD"], work).stdout.strip()
        assert [(d["workflow"], d["ref"], d["sha"], d["inputs"]) for d in api.dispatches()] == [
            ("retrain.yml", "refs/heads/develop", develop, {}),
            ("ingest.yml", "refs/heads/develop", develop, {}),
        ]
        refusals = [
            (COMMENT_TOKEN, ["retrain.yml", "--ref", "develop"], "403: Resource not accessible"),
            (UNKNOWN, ["retrain.yml", "--ref", "develop"], "401: Bad credentials"),
            (DISPATCH_TOKEN, ["retrain.yml", "--ref", "nowhere"], "422: No ref found for: nowhere"),
            (DISPATCH_TOKEN, ["pr.yml", "--ref", "develop"], "does not have 'workflow_dispatch' trigger"),
            (DISPATCH_TOKEN, ["retrain.yml", "--ref", "develop", "--input", "push=1"], "Unexpected inputs"),
            ("", ["retrain.yml", "--ref", "develop"], "GITHUB_DISPATCH_TOKEN is not set"),
        ]
        for token, args, reason in refusals:
            code, out = _dispatch(api, token, *args)
            assert code == 2 and reason in out.strip().splitlines()[-1], (args, out)
        assert len(api.dispatches()) == 2, "a refused dispatch starts nothing"
    finally:
        api.stop()
    # The dispatch token cannot push a branch or a tag (Contents is not among its permissions).
    commit(work, "by travis")
    refused = push(work, "develop", token=DISPATCH_TOKEN, check=False)
    assert refused.returncode != 0 and "Permission to acme/ml-repo.git denied" in refused.stderr


# --- reusable workflows ("Reuse workflows", https://docs.github.com/en/actions/how-tos/reuse-automations/reuse-workflows;
# "OpenID Connect reference", https://docs.github.com/en/actions/reference/security/oidc) ---------------------------
CALLED = {
    "on": {"workflow_call": {"inputs": {}}},
    "permissions": {"contents": "read"},
    "jobs": {
        "release": {"environment": "release", "permissions": {"contents": "write", "id-token": "write"}, "steps": []},
        "summary": {"steps": []},
    },
}


def caller(permissions: dict, secrets: object = "inherit", uses: str = "./.github/workflows/release.yml") -> dict:
    return {
        "on": {"push": {"branches": ["develop"]}},
        "permissions": {"contents": "read"},
        "jobs": {"go": {"uses": uses, "permissions": permissions, "secrets": secrets}},
    }


def test_a_called_workflow_keeps_or_lowers_the_callers_permissions_never_raises_them():
    """ "The GITHUB_TOKEN permissions passed from the caller workflow can be only downgraded (not elevated) by the
    called workflow": a called job asking more than its caller job grants fails the run before it starts."""
    jobs = called_jobs(caller({"contents": "write", "id-token": "write"}), lambda _: CALLED, "acme/r", "refs/heads/d")
    assert jobs["release"].permissions == {"contents": "write", "id-token": "write"}
    assert jobs["summary"].permissions == {"contents": "read"}  # the called workflow's own top level lowers it
    with pytest.raises(
        ReusableWorkflowError, match="requesting 'id-token: write', but is only allowed 'id-token: none'"
    ):
        called_jobs(caller({"contents": "write"}), lambda _: CALLED, "acme/r", "refs/heads/d")
    with pytest.raises(ReusableWorkflowError, match="'contents: write', but is only allowed 'contents: read'"):
        called_jobs(caller({"contents": "read", "id-token": "write"}), lambda _: CALLED, "acme/r", "refs/heads/d")


def test_id_token_must_be_granted_by_the_caller_job():
    """GitHub changelog 2023-06-15, "Securing OpenID Connect (OIDC) token permissions in reusable workflows": a called
    workflow gets an OIDC token only when the caller grants `id-token: write` (at its top level or the calling job);
    with no grant the called job's request is an elevation, refused as above."""
    grant_on_top = caller(None) | {"permissions": {"contents": "write", "id-token": "write"}}
    assert (
        called_jobs(grant_on_top, lambda _: CALLED, "acme/r", "refs/heads/d")["release"].permissions["id-token"]
        == "write"
    )
    with pytest.raises(ReusableWorkflowError, match="id-token"):
        called_jobs(caller(None) | {"permissions": {"contents": "write"}}, lambda _: CALLED, "acme/r", "refs/heads/d")


def test_secrets_reach_a_called_workflow_only_inherited_or_passed_by_name():
    """ "secrets: inherit" passes every secret of the caller (and a called job naming an environment gets that
    environment's); without it, only the secrets the caller passes by name under `secrets:`."""
    grant = {"contents": "write", "id-token": "write"}
    assert called_jobs(caller(grant), lambda _: CALLED, "acme/r", "refs/heads/d")["release"].secrets == "inherit"
    passed = called_jobs(caller(grant, {"TOKEN": "${{ secrets.TOKEN }}"}), lambda _: CALLED, "acme/r", "refs/heads/d")
    assert passed["release"].secrets == "passed"


def test_only_a_workflow_call_workflow_can_be_called_and_names_its_file():
    grant = {"contents": "write", "id-token": "write"}
    with pytest.raises(ReusableWorkflowError, match="not triggered by workflow_call"):
        called_jobs(caller(grant), lambda _: {**CALLED, "on": {"push": {}}}, "acme/r", "refs/heads/d")
    with pytest.raises(ReusableWorkflowError, match="names no reusable workflow file"):
        called_jobs(caller(grant, uses="owner/engine@v1"), lambda _: CALLED, "acme/r", "refs/heads/d")


def test_oidc_sub_is_the_callers_and_job_workflow_ref_names_the_called_file():
    """ "OpenID Connect reference" and "Using OpenID Connect with reusable workflows": in a called workflow `sub`
    still describes the caller's context (its repository, and the environment the job names, else the event's ref
    or `pull_request`); `job_workflow_ref` is the called workflow's path and ref: a trust policy that must admit only
    one reusable workflow requires it."""
    grant = {"contents": "write", "id-token": "write"}
    local = called_jobs(caller(grant), lambda _: CALLED, "acme/team", "refs/heads/develop")
    assert local["release"].job_workflow_ref == "acme/team/.github/workflows/release.yml@refs/heads/develop"
    remote = caller(grant, uses="owner/engine/.github/workflows/release.yml@v1.2.0")
    jobs = called_jobs(remote, lambda _: CALLED, "acme/team", "refs/heads/develop")
    assert jobs["release"].job_workflow_ref == "owner/engine/.github/workflows/release.yml@v1.2.0"
    assert oidc_subject("acme/team", "push", "refs/heads/develop", jobs["release"].job) == (
        "repo:acme/team:environment:release"
    )  # the caller's repository, not the engine's
    assert oidc_subject("acme/team", "push", "refs/heads/develop", jobs["summary"].job) == (
        "repo:acme/team:ref:refs/heads/develop"
    )
    assert oidc_subject("acme/team", "pull_request", "refs/pull/1/merge", {}) == "repo:acme/team:pull_request"


def test_this_repositorys_callers_grant_what_their_called_jobs_use():
    """The rules above on the real files: every caller of a reusable workflow here passes GitHub's checks."""
    from tests.ci.test_static import WORKFLOWS, raw

    for path in WORKFLOWS:
        spec = raw(path)
        for run in called_jobs(spec, lambda uses: raw(REPO_ROOT / uses), "acme/ml-repo", "refs/heads/develop").values():
            assert run.secrets == "inherit" and run.job_workflow_ref.startswith("acme/ml-repo/.github/workflows/")
