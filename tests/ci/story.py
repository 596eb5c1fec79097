"""What the act stories share: the identities' variables and secrets, the comments' watermarks, and the moves a
developer makes in the sandbox's clone (tests/ci/conftest.py builds the sandboxes)."""

from __future__ import annotations

import re

from tests.ci.conftest import APP_CLIENT_ID, APP_IDENTITY, APP_PRIVATE_KEY, APP_SLUG, MOTO_ENV, VENV, run

REMOTE = "s3remote"
PR_PREFIX = "pull-requests"  # s3remote-pr, where pull-request builds upload
OIDC = {"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/retrain-ci"}
APP_VARS = {**OIDC, "RETRAIN_APP_CLIENT_ID": APP_CLIENT_ID}
APP_SECRETS = {"RETRAIN_APP_PRIVATE_KEY": APP_PRIVATE_KEY}
PR_TITLE = "CML watermark retrain pull-request report"
RELEASE_TITLE = "CML watermark retrain release"
TRAVIS_PR_TITLE = "CML watermark retrain travis pull-request report"
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


def has_release_trailer(ci, sha: str) -> bool:
    return ci.origin_git("log", "-1", "--format=%(trailers:key=Retrain-Commit,valueonly,separator=%x2C)", sha) == (
        "release"
    )


def dev_env(ci) -> dict:
    """The developer's shell: git as them, the venv's tools, moto's credentials and endpoint (their AWS)."""
    return {
        **ci.git_env(),
        **MOTO_ENV,
        "PATH": f"{VENV / 'bin'}:{ci.git_env()['PATH']}",
        "AWS_ENDPOINT_URL": ci.endpoint,
    }


def add_batch(ci, rows: int, seed: int) -> str:
    """A new delivery in the developer's clone, the README's way: simulate, `dvc add`, commit its .dvc file."""
    out = run(
        [VENV / "bin" / "python", "scripts/simulate_new_data.py", "--rows", str(rows), "--seed", str(seed)],
        cwd=ci.dev,
        env=dev_env(ci),
    ).stdout
    batch = out.split("wrote ", 1)[1].split(" (", 1)[0]
    run([VENV / "bin" / "dvc", "add", "--quiet", batch], cwd=ci.dev, env=dev_env(ci))
    ci.git("add", f"{batch}.dvc")
    ci.git("commit", "--quiet", "-m", f"data: add {batch}")
    return batch


def protect_develop(ci) -> None:
    """develop gets a ruleset (pull requests only) with the release App on its bypass list, and the repository the
    App's client id (variable) and key (secret), as docs/ci.md sets them up; the tag ruleset lets only the App
    create, update or delete release and stage tags."""
    ci.forge.install_app(
        APP_CLIENT_ID, APP_SLUG, APP_PRIVATE_KEY, {"contents": "write", "pull_requests": "write", "metadata": "read"}
    )
    ci.forge.protect("develop", bypass=[APP_IDENTITY])
    ci.forge.protect_tags(["model@*", "model#*"], bypass=[APP_IDENTITY])
