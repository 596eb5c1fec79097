"""The engine's side of issue 11's CI rules: what `retrain report` counts as a pipeline input, the missing-batch
message, `retrain announce` (the merged pull requests, from GitHub's API: here the fake of tests/ci) and
`retrain remote set-bucket`. Real git, no S3."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from retrain import announce, decisions, dvcfiles, layout, remote, steps
from retrain.dvcops import StoredObject
from retrain.errors import BadInputError
from retrain.rawdata import Raw
from tests.ci.fake_github import FakeGitHub
from tests.ci.forge import Forge
from tests.helpers import REPO_ROOT, VENV_BIN, sh

TOKEN = "ghs_announce"  # noqa: S105 (a fake)


def test_pipeline_inputs_come_from_dvc_yaml():
    inputs = dvcfiles.stage_inputs((REPO_ROOT / "dvc.yaml").read_text())
    # The runtime lock is a stage dependency: the environment is part of the snapshot.
    assert {"src/pipeline", "data/raw", "params.yaml", "requirements.lock"} <= set(inputs)
    changed = ["docs/ci.md", ".github/workflows/pr.yml", "src/retrain/cli.py", "README.md", "requirements-dev.lock"]
    assert decisions.changed_inputs(changed, inputs, ("dvc.yaml", "dvc.lock")) == [], "nothing to reproduce"
    changed += ["src/pipeline/train.py", "data/raw/batch-0003.csv.dvc", "dvc.lock", "params.yaml", "requirements.lock"]
    assert decisions.changed_inputs(changed, inputs, ("dvc.yaml", "dvc.lock")) == [
        "data/raw/batch-0003.csv.dvc",
        "dvc.lock",
        "params.yaml",
        "requirements.lock",
        "src/pipeline/train.py",
    ]
    assert decisions.changed_inputs(["src/pipelines.py"], ["src/pipeline"], ()) == [], "a prefix is not a folder"


def test_a_batch_missing_from_the_remote_is_named_with_the_command_that_uploads_it():
    missing = [StoredObject("0a" * 16, "data/raw/batch-0002-simulated-seed7.csv")]
    message = steps.missing_message(missing, "s3remote", Raw("data/raw"))
    assert "`dvc push -r s3remote data/raw/batch-0002-simulated-seed7.csv.dvc`" in message
    other = [StoredObject("0b" * 16, "models/model.joblib")]
    assert "`dvc push -r s3remote`" in steps.missing_message(other, "s3remote", Raw("data/raw"))
    single = Raw("data/diabetes.csv", single=True)
    message = steps.missing_message([StoredObject("0c" * 16, "data/diabetes.csv")], "s3remote", single)
    assert "`dvc push -r s3remote data/diabetes.csv.dvc`" in message


# --- retrain announce ------------------------------------------------------------------------------------------
def git(root: Path, *args: str) -> str:
    return sh(["git", *args], root).stdout.strip()


@pytest.fixture
def history(tmp_path: Path):
    """develop with a release, then two merged pull requests (#5, #6) and the release of both; plus an open
    develop -> main pull request (#7) that contains every commit. The forge's fake API serves them."""
    origin, root = tmp_path / "origin.git", tmp_path / "work"
    sh(["git", "init", "--quiet", "--bare", "--initial-branch=develop", origin])
    sh(["git", "init", "--quiet", "--initial-branch=develop", root])
    shutil.copy(REPO_ROOT / "dvc.yaml", root / "dvc.yaml")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "seed")
    git(root, "tag", "-a", "model@v1.0.0", "-m", "Release model@v1.0.0")
    git(root, "remote", "add", "origin", str(origin))
    model = Forge(tmp_path / "forge", origin, "acme/ml-repo")
    model.register_token(TOKEN, "github-actions[bot]", "github_token", {"pull_requests": "write"})
    git(root, "push", "--quiet", "origin", "develop", "develop:main")
    merges = []
    for number in (5, 6):
        git(root, "checkout", "--quiet", "-b", f"pr{number}", "develop")
        (root / f"f{number}").write_text("x\n")
        git(root, "add", "-A")
        git(root, "commit", "--quiet", "-m", f"change {number}")
        git(root, "push", "--quiet", "origin", f"pr{number}")
        model.open_pull(number, f"pr{number}", git(root, "rev-parse", "HEAD"))
        git(root, "checkout", "--quiet", "develop")
        git(
            root,
            "merge",
            "--quiet",
            "--no-ff",
            "-m",
            f"Merge pull request #{number} from acme/pr{number}",
            f"pr{number}",
        )
        git(root, "push", "--quiet", "origin", "develop")
        merges.append(git(root, "rev-parse", "HEAD"))
        model.mark_merged(number, merges[-1])
    model.open_pull(7, "develop", merges[-1], base="main")
    model.open_pull(8, "unrelated", merges[0])  # open, into develop, contains a merge: not merged, not listed
    (root / "dvc.lock").write_text("lock\n")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", decisions.commit_message(0, {}, "accuracy", 0.9, {}))
    git(root, "tag", "-a", "model@v1.0.1", "-m", "Release model@v1.0.1")
    release = git(root, "rev-parse", "HEAD")
    (root / layout.RUN_SUMMARY).parent.mkdir()
    (root / layout.RUN_SUMMARY).write_text(json.dumps({"status": "released", "tag": "model@v1.0.1", "commit": release}))
    (root / layout.REPORT).write_text("## Retrain report\n")
    api = FakeGitHub(model.state_file).start()
    env = {"GITHUB_REPOSITORY": "acme/ml-repo", "GITHUB_API_URL": api.url, "GITHUB_TOKEN": TOKEN}
    try:
        yield root, env, release
    finally:
        api.stop()


def test_announce_names_every_pull_request_merged_since_the_previous_release(history):
    root, env, _ = history
    made = announce.announce(root, "develop", layout.REPORT, env, None)
    assert made.numbers == [5, 6] and made.since == "model@v1.0.0"
    assert made.targets == ["pr/5", "pr/6"], "not #7 (open, to main) nor #8 (open)"
    assert "Merged into `develop` since `model@v1.0.0`: #5, #6." in (root / layout.REPORT).read_text()


def test_announce_falls_back_to_merge_messages_when_the_api_refuses(history, capsys):
    root, env, _ = history
    made = announce.announce(root, "develop", None, {**env, "GITHUB_TOKEN": "wrong"}, None)
    assert made.numbers == [5, 6]
    assert "401" in capsys.readouterr().err


def test_announce_is_silent_for_runs_that_are_no_news_and_targets_the_commit_without_pull_requests(history):
    root, env, release = history
    summary = root / layout.RUN_SUMMARY
    summary.write_text(json.dumps({"status": "up_to_date", "tag": "model@v1.0.1", "commit": release}))
    assert announce.announce(root, "develop", None, env, None) is None
    git(root, "commit", "--quiet", "--allow-empty", "-m", "a direct push, no pull request")
    head = git(root, "rev-parse", "HEAD")
    summary.write_text(json.dumps({"status": "gated", "tag": None, "commit": head}))
    made = announce.announce(root, "develop", None, env, None)
    assert made.since == "model@v1.0.1" and made.targets == [f"commit/{head}"]


def test_announce_cli_prints_one_target_per_line(history):
    root, env, _ = history
    result = sh([VENV_BIN / "retrain", "announce", "--into", "develop"], root, {**_base(), **env})
    assert result.stdout.split() == ["pr/5", "pr/6"]


def _base() -> dict:
    from tests.helpers import base_env

    return base_env()


# --- retrain remote set-bucket ---------------------------------------------------------------------------------
def test_set_bucket_rewrites_the_ci_remote_with_dvcs_config_api_and_commits_it(tmp_path: Path):
    root = tmp_path / "repo"
    root.mkdir()
    sh(["git", "init", "--quiet", "--initial-branch=develop"], root)
    sh([VENV_BIN / "dvc", "init", "--quiet"], root)
    shutil.copy(REPO_ROOT / ".dvc" / "config", root / ".dvc" / "config")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "seed")

    said = remote.set_bucket(root, "s3remote", "s3://acme-ml-data/retrain/")
    assert "now points at s3://acme-ml-data/retrain" in said
    config = (root / ".dvc" / "config").read_text()
    assert "url = s3://acme-ml-data/retrain\n" in config and "url = ../.dvc-storage" in config
    assert git(root, "log", "-1", "--format=%s") == "dvc: the CI remote `s3remote` is s3://acme-ml-data/retrain"
    assert git(root, "status", "--porcelain") == ""
    assert "nothing to change" in remote.set_bucket(root, "s3remote", "s3://acme-ml-data/retrain")
    for bad in ("acme-ml-data/retrain", "s3://Acme_Data/x", "gs://acme/x", "s3://ab"):
        with pytest.raises(BadInputError):
            remote.set_bucket(root, "s3remote", bad)
    with pytest.raises(BadInputError, match="no remote `nope`"):
        remote.set_bucket(root, "nope", "s3://acme-ml-data")
    # This clone's .dvc/config.local overrides the remote: the commit is made, and the line says how to unset it.
    (root / ".dvc" / "config.local").write_text("['remote \"s3remote\"']\n    url = /tmp/elsewhere\n")
    said = remote.set_bucket(root, "s3remote", "s3://acme-ml-data/other")
    assert "now points at s3://acme-ml-data/other" in said
    assert "still overrides it with /tmp/elsewhere: `dvc remote modify --local --unset s3remote url`" in said


# --- a push that origin's rules refuse -------------------------------------------------------------------------
def test_a_push_refused_by_a_ruleset_is_not_retried_and_says_what_to_configure():
    """GitHub refuses a push to a protected branch from an identity off the bypass list with GH013: catching up
    and retrying cannot help (the old behaviour: three full attempts, then a generic message)."""
    from retrain import gitops
    from retrain.errors import PushForbiddenError, PushRejectedError

    porcelain = (
        "To https://github.com/acme/ml-repo.git\n"
        "!\tHEAD:refs/heads/develop\t[remote rejected] (push declined due to repository rule violations)\nDone\n"
    )
    stderr = (
        "remote: error: GH013: Repository rule violations found for refs/heads/develop.\n"
        "remote: - Changes must be made through a pull request.\n"
        "error: failed to push some refs to 'https://github.com/acme/ml-repo.git'\n"
    )
    with pytest.raises(PushForbiddenError, match=r"GH013.*bypass list.*docs/ci\.md"):
        gitops._raise_for_push(porcelain, stderr, "origin")
    moved = "!\tHEAD:refs/heads/develop\t[rejected] (fetch first)\n"
    with pytest.raises(PushRejectedError):  # origin moved: catch up and retry, as before
        gitops._raise_for_push(moved, "error: failed to push some refs\n", "origin")


def test_the_release_comment_gains_the_primary_metric_over_the_last_five_releases(tmp_path: Path):
    """Seven releases made with git (tests/helpers/history.py): the report gets v1.2.0 ... v1.6.0's accuracy, oldest
    first, and says where the whole history page is (this run's artifact)."""
    from tests.helpers.history import accuracy, synthetic_history

    root = synthetic_history(tmp_path / "work", 7)
    (root / layout.RUN_SUMMARY).parent.mkdir()
    commit = git(root, "rev-parse", "HEAD")
    (root / layout.RUN_SUMMARY).write_text(json.dumps({"status": "released", "tag": "model@v1.6.0", "commit": commit}))
    (root / layout.REPORT).write_text("## Retrain report\n")
    env = {"RETRAIN_RUN_URL": "https://github.com/acme/ml-repo/actions/runs/42"}

    announce.announce(root, "develop", layout.REPORT, env, None)

    report = (root / layout.REPORT).read_text()
    table = report.split("### Trend\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert table[:2] == ["| release | date | accuracy |", "|---|---|---:|"]
    assert [row.split(" | ")[0] for row in table[2:]] == [f"| model@v1.{n}.0" for n in range(2, 7)]
    assert [row.split(" | ")[2] for row in table[2:]] == [f"{accuracy(n):.4f} |" for n in range(2, 7)]
    assert (
        "the workflow artifact `release-history` of [this run](https://github.com/acme/ml-repo/actions/runs/42)"
        in report
    )
