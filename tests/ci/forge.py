"""A small model of the forge (GitHub) around the bare origin, for the CI tests: who may push where, and which
workflow runs GitHub starts after a push or a pull-request event. Each rule cites the GitHub documentation it models.

The state lives in one JSON file (``forge.json``) that the origin's hooks, the fake API (fake_github.py), the
create-github-app-token stand-in and the CML stand-in all read:

* ``tokens``: token -> {identity, kind, permissions}. Kinds: ``github_token`` (a job's GITHUB_TOKEN, the
  github-actions[bot] integration), ``app`` (a GitHub App installation token), ``user`` (a person's or a machine
  user's classic personal access token, which may push wherever its owner may), ``fine_grained`` (a fine-grained
  personal access token: only its ``permissions``, e.g. ``{"actions": "write"}`` to dispatch workflows, count);
* ``apps``: client id -> {slug, installation_id, private_key}: the Apps installed on the repository;
* ``rules``: branch -> {bypass: [identities]}: a ruleset (or branch protection) on the branch;
* ``tag_rules``: [{patterns, bypass}]: tag rulesets restricting creations, updates and deletions of matching tags;
* ``pulls``: the pull requests, as the REST API shows them (plus the commits each contains).

Who pushes: the origin's pre-receive hook reads ``FORGE_TOKEN`` (the token a clone sends: the receive-pack wrapper
decodes it from the clone's ``http.<server>.extraheader``, the header actions/checkout writes) or, for pushes the
test makes itself, ``FORGE_ACTOR`` (a person, or ``github-merge``: GitHub's merge button, which writes the merge on
the server once the pull request meets the rules).
"""

from __future__ import annotations

import contextlib
import fcntl
import fnmatch
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ZERO = "0" * 40
MERGE_BUTTON = "github-merge"
GITHUB_ACTIONS_BOT = "github-actions[bot]"

# "Skipping workflow runs" (https://docs.github.com/en/actions/managing-workflow-runs-and-deployments/
# managing-workflow-runs/skipping-workflow-runs): push and pull_request workflows are not started when the head
# commit's message contains one of these, or ends with a `skip-checks: true` trailer; the checks of a skipped
# workflow stay "Pending", and a pull request that requires them cannot be merged.
SKIP_INSTRUCTIONS = ("[skip ci]", "[ci skip]", "[no ci]", "[skip actions]", "[actions skip]")
SKIP_CHECKS_TRAILER = re.compile(r"(?:^|\n)skip-checks:\s*true\s*$", re.I)


def skip_instruction(message: str) -> str | None:
    """The skip instruction in a head commit's message, if any ("Skipping workflow runs")."""
    for instruction in SKIP_INSTRUCTIONS:
        if instruction in message:
            return instruction
    if SKIP_CHECKS_TRAILER.search(message.rstrip()):
        return "skip-checks: true"
    return None


def filter_pattern(pattern: str) -> re.Pattern:
    """GitHub's filter pattern syntax ("Filter pattern cheat sheet", workflow syntax): `*` matches any character
    but `/`, `**` any character, `?` one character; `!` negation is handled by the caller."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "."
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def matches(patterns: list[str], name: str) -> bool:
    """A name against an include list with `!` exclusions, the last matching pattern winning (workflow syntax,
    "Using filters: patterns to match branches and tags")."""
    verdict = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if filter_pattern(pattern[1:] if negated else pattern).match(name):
            verdict = not negated
    return verdict


def ref_filter_allows(trigger: dict, ref: str) -> bool:
    """on.push.<branches|branches-ignore|tags|tags-ignore> (workflow syntax): with only branch filters a tag push
    starts nothing, with only tag filters a branch push starts nothing, with neither everything does."""
    branch_keys = [key for key in ("branches", "branches-ignore") if key in trigger]
    tag_keys = [key for key in ("tags", "tags-ignore") if key in trigger]
    if ref.startswith("refs/heads/"):
        name, keys, others = ref.removeprefix("refs/heads/"), branch_keys, tag_keys
    elif ref.startswith("refs/tags/"):
        name, keys, others = ref.removeprefix("refs/tags/"), tag_keys, branch_keys
    else:
        return False
    if not keys:
        return not others
    key = keys[0]
    return matches(trigger[key], name) if not key.endswith("-ignore") else not matches(trigger[key], name)


def paths_filter_allows(trigger: dict, changed: list[str]) -> bool:
    """on.<push|pull_request>.<paths|paths-ignore> (workflow syntax): `paths` needs one changed file to match;
    `paths-ignore` skips the run when every changed file matches. A workflow skipped this way leaves its required
    check Pending ("Required status checks")."""
    if "paths" in trigger:
        return any(matches(trigger["paths"], name) for name in changed)
    if "paths-ignore" in trigger:
        return not all(matches(trigger["paths-ignore"], name) for name in changed)
    return True


def triggers(spec: dict) -> dict:
    """A workflow's `on:` as {event: filters} (YAML 1.1 reads the key `on` as True)."""
    on = spec.get("on", spec.get(True))
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        return {event: {} for event in on}
    return {event: (filters or {}) for event, filters in (on or {}).items()}


# --- reusable workflows -------------------------------------------------------------------------------------------
# "Reuse workflows" (https://docs.github.com/en/actions/how-tos/reuse-automations/reuse-workflows) and the workflow
# syntax's jobs.<job_id>.uses: a caller job `uses:` a workflow file whose `on:` has `workflow_call`, either
# `./.github/workflows/FILE` (the caller's repository, at the caller's commit) or
# `OWNER/REPO/.github/workflows/FILE@REF`.
# The called workflow's jobs run in the caller's run, with the caller's event context (`github.*`).
LOCAL_CALL = "./.github/workflows/"
REMOTE_CALL = re.compile(r"(?P<repo>[\w.-]+/[\w.-]+)/(?P<path>\.github/workflows/[\w.-]+\.ya?ml)@(?P<ref>\S+)")
# GITHUB_TOKEN access levels (jobs.<job_id>.permissions: `write` includes `read`; a job that names some scopes
# gets `none` for every other one).
LEVELS = {"none": 0, "read": 1, "write": 2}


class ReusableWorkflowError(Exception):
    """A call GitHub refuses before any job runs (the run fails with this reason)."""


@dataclass(frozen=True)
class CalledJob:
    """A job of a called workflow as GitHub runs it for one caller job."""

    caller_job: str
    job: dict
    permissions: dict[str, str]  # what its GITHUB_TOKEN may do
    secrets: str  # "inherit": every secret of the caller (and of the environment it names); "passed": only those given
    job_workflow_ref: str  # OIDC claim: OWNER/REPO/.github/workflows/FILE@REF of the called workflow


def scopes(permissions: object, default: dict[str, str]) -> dict[str, str]:
    """A `permissions:` value as {scope: level}: `read-all`/`write-all`, a mapping (unnamed scopes none), or absent
    (the default: what the enclosing level grants)."""
    if permissions is None:
        return dict(default)
    if permissions in ("read-all", "write-all"):
        level = str(permissions).removesuffix("-all")
        return {scope: level for scope in (*default, "contents", "pull-requests", "id-token", "actions")}
    return {str(scope): str(level) for scope, level in (permissions or {}).items()}


def called_jobs(
    caller: dict, read: Callable[[str], dict], repository: str, ref: str, granted: dict[str, str] | None = None
) -> dict[str, CalledJob]:
    """The jobs GitHub runs for `caller`'s jobs that call a reusable workflow, by the called job's id. `read(uses)`
    returns a called workflow's spec; `repository`/`ref` are the caller's (a `./` call reads the same commit).

    The rules, each from "Reuse workflows" unless said: the called file must be triggered by `workflow_call`; its
    jobs' GITHUB_TOKEN permissions "can only be downgraded (not elevated)" from what the caller job grants, and a
    called job naming more fails the run; `secrets: inherit` passes every secret of the caller, otherwise only the
    `secrets:` named; a called job may name an `environment:`, whose secrets and protection rules then apply. OIDC
    ("OpenID Connect reference", https://docs.github.com/en/actions/reference/security/oidc; "Using OpenID Connect
    with reusable workflows"): `sub` describes the caller's context (retrain: `oidc_subject`), and `job_workflow_ref`
    names the called workflow file and its ref.
    """
    top = scopes(caller.get("permissions"), granted or {"contents": "write", "id-token": "none"})
    found: dict[str, CalledJob] = {}
    for job_id, job in (caller.get("jobs") or {}).items():
        uses = job.get("uses")
        if not uses:
            continue
        if uses.startswith(LOCAL_CALL):
            workflow_ref = f"{repository}/{uses.removeprefix('./')}@{ref}"
        elif REMOTE_CALL.fullmatch(uses):
            workflow_ref = uses
        else:
            raise ReusableWorkflowError(f"{job_id}: `{uses}` names no reusable workflow file")
        called = read(uses)
        if "workflow_call" not in triggers(called):
            raise ReusableWorkflowError(f"{job_id}: {uses} is not triggered by workflow_call")
        allowed = scopes(job.get("permissions"), top)
        called_top = scopes(called.get("permissions"), allowed)
        for called_id, called_job in (called.get("jobs") or {}).items():
            wanted = scopes(called_job.get("permissions"), called_top)
            for scope, level in wanted.items():
                if LEVELS[level] > LEVELS[allowed.get(scope, "none")]:
                    raise ReusableWorkflowError(
                        f"{job_id}/{called_id}: the nested job is requesting '{scope}: {level}', but is only "
                        f"allowed '{scope}: {allowed.get(scope, 'none')}'"
                    )
            secrets = "inherit" if job.get("secrets") == "inherit" else "passed"
            found[called_id] = CalledJob(job_id, called_job, wanted, secrets, workflow_ref)
    return found


def oidc_subject(repository: str, event: str, ref: str, job: dict) -> str:
    """The OIDC `sub` of a job, called or not ("OpenID Connect reference"): the environment it names, else
    `pull_request` for a pull_request event, else the ref. A reusable workflow does not change it: its own file and
    ref are in `job_workflow_ref`, which a trust policy must require to pin the called workflow."""
    environment = job.get("environment")
    name = environment.get("name") if isinstance(environment, dict) else environment
    if name:
        return f"repo:{repository}:environment:{name}"
    if event == "pull_request":
        return f"repo:{repository}:pull_request"
    return f"repo:{repository}:ref:{ref}"


@dataclass
class Push:
    ref: str
    old: str
    new: str
    identity: str
    kind: str


@dataclass
class ConcurrencyGroup:
    """`concurrency:` with cancel-in-progress false ("Control the concurrency of workflows and jobs",
    https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/control-the-concurrency-of-workflows-and-jobs):
    at most one run in progress and one pending; a new run replaces (cancels) the pending one."""

    running: str | None = None
    pending: str | None = None
    replaced: list[str] = field(default_factory=list)

    def queue(self, run: str) -> None:
        if self.running is None:
            self.running = run
            return
        if self.pending is not None:
            self.replaced.append(self.pending)
        self.pending = run

    def finish(self) -> str | None:
        """The running run ends: the pending one starts; returns it."""
        self.running, self.pending = self.pending, None
        return self.running


class Forge:
    def __init__(self, root: Path, origin: Path, repository: str, server: str = "https://github.com") -> None:
        self.root = root
        self.origin = origin
        self.repository = repository
        self.server = server
        self.state_file = root / "forge.json"
        self.push_log = root / "forge-pushes.jsonl"
        self.receive_pack = root / "forge-receive-pack"
        root.mkdir(parents=True, exist_ok=True)
        if not self.state_file.exists():
            self._write(
                {
                    "repository": repository,
                    "origin": str(origin),
                    "tokens": {},
                    "apps": {},
                    "rules": {},
                    "tag_rules": [],
                    "pulls": [],
                }
            )

    # --- state -----------------------------------------------------------------------------------------------
    def state(self) -> dict:
        return json.loads(self.state_file.read_text())

    def _write(self, state: dict) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self.state_file)

    def update(self, change) -> None:
        with locked(self.state_file):
            state = self.state()
            change(state)
            self._write(state)

    def register_token(self, token: str, identity: str, kind: str, permissions: dict | None = None) -> None:
        def change(state):
            state["tokens"][token] = {"identity": identity, "kind": kind, "permissions": permissions or {}}

        self.update(change)

    def install_app(self, client_id: str, slug: str, private_key: str, permissions: dict[str, str]) -> None:
        """A GitHub App installed on the repository with these permissions (its token may ask for fewer)."""

        def change(state):
            state["apps"][client_id] = {
                "slug": slug,
                "installation_id": 4242,
                "private_key": private_key,
                "permissions": permissions,
            }

        self.update(change)

    def protect(self, branch: str, bypass: list[str]) -> None:
        """A ruleset on `branch`: changes through pull requests only (merged by GitHub's merge button), except for
        the identities on its bypass list. "About rulesets" (https://docs.github.com/en/repositories/
        configuring-branches-and-merges-in-your-repository/managing-rulesets/about-rulesets): a GitHub App or a
        deploy key may be on the bypass list; GITHUB_TOKEN (the github-actions integration) cannot be."""
        assert GITHUB_ACTIONS_BOT not in bypass, "GitHub offers no way to put GITHUB_TOKEN on a bypass list"

        def change(state):
            state["rules"][branch] = {"bypass": [*bypass, MERGE_BUTTON]}

        self.update(change)

    def protect_tags(self, patterns: list[str], bypass: list[str]) -> None:
        """A tag ruleset: *Restrict creations*, *Restrict updates* and *Restrict deletions* of the tags matching
        `patterns` (fnmatch syntax, as rulesets' "Target tags"), bypassed only by the identities listed. "About
        rulesets": rulesets can target tags, and their bypass list can name GitHub Apps; GITHUB_TOKEN cannot be on it.
        """
        assert GITHUB_ACTIONS_BOT not in bypass, "GitHub offers no way to put GITHUB_TOKEN on a bypass list"

        def change(state):
            state.setdefault("tag_rules", []).append({"patterns": list(patterns), "bypass": list(bypass)})

        self.update(change)

    # --- pull requests ---------------------------------------------------------------------------------------
    def pull(self, number: int) -> dict:
        return next(p for p in self.state()["pulls"] if p["number"] == number)

    def open_pull(self, number: int, head_ref: str, head_sha: str, base: str = "develop") -> dict:
        def change(state):
            state["pulls"] = [p for p in state["pulls"] if p["number"] != number]
            stamp = self._stamp(state)
            state["pulls"].append(
                {
                    "number": number,
                    "state": "open",
                    "title": f"{head_ref} into {base}",
                    "head": {"ref": head_ref, "sha": head_sha},
                    "base": {"ref": base},
                    "merged_at": None,
                    "merge_commit_sha": None,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "commits": self._commits(f"refs/heads/{base}", head_sha),
                }
            )

        self.update(change)
        return self.pull(number)

    def synchronize(self, number: int, head_sha: str) -> None:
        def change(state):
            pull = next(p for p in state["pulls"] if p["number"] == number)
            pull["head"]["sha"] = head_sha
            pull["updated_at"] = self._stamp(state)
            pull["commits"] = self._commits(f"refs/heads/{pull['base']['ref']}", head_sha)

        self.update(change)

    def mark_merged(self, number: int, merge_commit: str) -> None:
        def change(state):
            pull = next(p for p in state["pulls"] if p["number"] == number)
            stamp = self._stamp(state)
            pull.update(state="closed", merged_at=stamp, updated_at=stamp, merge_commit_sha=merge_commit)

        self.update(change)

    def _stamp(self, state: dict) -> str:
        """Strictly increasing timestamps, so that sorting by created/updated is well defined."""
        state["clock"] = state.get("clock", 0) + 1
        return f"2026-01-01T00:{state['clock'] // 60:02d}:{state['clock'] % 60:02d}Z"

    def _commits(self, base: str, head: str) -> list[str]:
        if self._git("rev-parse", "--verify", "--quiet", base, check=False) is None:
            return self._git("rev-list", head).split()
        return self._git("rev-list", f"{base}..{head}").split()

    # --- the origin: hooks and pushes ------------------------------------------------------------------------
    def install(self) -> None:
        """The origin's pre-receive (the rules) and post-receive (the push log) hooks, and the receive-pack wrapper
        that clones use as `remote.origin.receivepack` to send the token of their extraheader."""
        hooks = self.origin / "hooks"
        hooks.mkdir(exist_ok=True)
        for name in ("pre-receive", "post-receive"):
            path = hooks / name
            path.write_text(
                f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
                f"from forge import hook\nsys.exit(hook({name!r}, {str(self.state_file)!r}, "
                f"{str(self.push_log)!r}))\n"
            )
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        self.receive_pack.write_text(
            "#!/usr/bin/env bash\n"
            "# The clone's credentials, as GitHub's server reads them from the Authorization header that\n"
            "# actions/checkout (or a CI script) put in http.<server>/.extraheader.\n"
            "header=$(git config --get-regexp '^http\\..*\\.extraheader$' | sed -n 's/^[^ ]* AUTHORIZATION: basic //p'"
            " | tail -n 1)\n"
            'if [ -n "$header" ]; then\n'
            '  FORGE_TOKEN=$(printf %s "$header" | base64 -d 2>/dev/null | sed -n "s/^x-access-token://p")\n'
            "  export FORGE_TOKEN\n"
            "fi\n"
            'exec git-receive-pack "$@"\n'
        )
        self.receive_pack.chmod(0o755)

    def pushes(self) -> list[Push]:
        if not self.push_log.exists():
            return []
        return [Push(**json.loads(line)) for line in self.push_log.read_text().splitlines() if line.strip()]

    def _git(self, *args: str, check: bool = True) -> str | None:
        result = subprocess.run(["git", f"--git-dir={self.origin}", *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            if check:
                raise AssertionError(f"git {' '.join(args)}: {result.stderr}")
            return None
        return result.stdout.strip()

    # --- which workflow runs GitHub starts -------------------------------------------------------------------
    def workflows_at(self, sha: str) -> dict[str, dict]:
        names = self._git("ls-tree", "--name-only", f"{sha}:.github/workflows", check=False) or ""
        found = {}
        for name in names.splitlines():
            if name.endswith((".yml", ".yaml")):
                found[name] = yaml.safe_load(self._git("show", f"{sha}:.github/workflows/{name}"))
        return found

    def runs_for_push(self, push: Push) -> list[str]:
        """The workflows GitHub starts for one pushed ref."""
        # "Triggering a workflow from a workflow" (https://docs.github.com/en/actions/writing-workflows/
        # choosing-when-your-workflow-runs/triggering-a-workflow#triggering-a-workflow-from-a-workflow): events
        # made with a job's GITHUB_TOKEN start no workflow run (bar workflow_dispatch and repository_dispatch);
        # those made with a GitHub App installation token or a personal access token do.
        if push.kind == "github_token" or push.new == ZERO:
            return []
        if skip_instruction(self._git("log", "-1", "--format=%B", push.new) or ""):
            return []
        changed: list[str] = []
        if push.ref.startswith("refs/heads/") and push.old != ZERO:
            changed = self._git("diff", "--name-only", f"{push.old}..{push.new}").split()
        elif push.ref.startswith("refs/heads/"):  # a new branch: its head commit's files (the tests' simplification)
            changed = self._git("show", "--name-only", "--format=", push.new).split()
        runs = []
        for name, spec in self.workflows_at(push.new).items():
            on = triggers(spec)
            if "push" not in on or not ref_filter_allows(on["push"], push.ref):
                continue
            # Path filters are not evaluated for pushes of tags (workflow syntax, on.push.paths).
            if push.ref.startswith("refs/heads/") and not paths_filter_allows(on["push"], changed):
                continue
            runs.append(name)
        return sorted(runs)

    def runs_for_pull_request(self, number: int, opened_with: str = "user") -> list[str]:
        """The workflows GitHub starts for a pull request's opened/synchronize event (on.pull_request's branches
        filter is on the base branch; the workflow file is read from the merge commit, here the head)."""
        pull = self.pull(number)
        if opened_with == "github_token":  # "Triggering a workflow from a workflow", as above
            return []
        head = pull["head"]["sha"]
        if skip_instruction(self._git("log", "-1", "--format=%B", head) or ""):
            return []
        base = f"refs/heads/{pull['base']['ref']}"
        fork_point = self._git("merge-base", base, head)
        changed = self._git("diff", "--name-only", f"{fork_point}..{head}").split()
        runs = []
        for name, spec in self.workflows_at(head).items():
            on = triggers(spec)
            trigger = on.get("pull_request")
            if trigger is None:
                continue
            if "branches" in trigger and not matches(trigger["branches"], pull["base"]["ref"]):
                continue
            if "branches-ignore" in trigger and matches(trigger["branches-ignore"], pull["base"]["ref"]):
                continue
            if not paths_filter_allows(trigger, changed):
                continue
            runs.append(name)
        return sorted(runs)


@contextlib.contextmanager
def locked(state_file: Path):
    """The state file's lock, shared with the fake API and the create-github-app-token stand-in."""
    with state_file.with_suffix(".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def hook(name: str, state_file: str, push_log: str) -> int:
    """The origin's pre-receive and post-receive hooks (see Forge.install)."""
    state = json.loads(Path(state_file).read_text())
    updates = [line.split() for line in sys.stdin.read().splitlines() if line.strip()]
    token = os.environ.get("FORGE_TOKEN")
    if token:
        known = state["tokens"].get(token)
        if known is None:
            print(
                "Invalid username or token. Password authentication is not supported for Git operations.",
                file=sys.stderr,
            )
            return 1
        identity, kind = known["identity"], known["kind"]
        # An App token, a job's GITHUB_TOKEN and a fine-grained token push only with contents: write.
        if kind != "user" and known["permissions"].get("contents") != "write":
            print(f"Permission to {state['repository']}.git denied to {identity}.", file=sys.stderr)
            return 1
    elif os.environ.get("FORGE_ACTOR"):
        identity, kind = os.environ["FORGE_ACTOR"], "user"
    else:
        print("Authentication failed: no credentials", file=sys.stderr)
        return 1
    if name == "post-receive":
        with open(push_log, "a") as log:
            for old, new, ref in updates:
                record = {"ref": ref, "old": old, "new": new, "identity": identity, "kind": kind}
                log.write(json.dumps(record) + "\n")
        return 0
    for old, new, ref in updates:
        refused = tag_rule_refusal(state, identity, old, new, ref)
        if refused:
            print(f"error: GH013: Repository rule violations found for {ref}.", file=sys.stderr)
            print(f"- {refused}", file=sys.stderr)
            print(f"(pushed by {identity}, not on the bypass list)", file=sys.stderr)
            return 1
        branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
        rule = state["rules"].get(branch) if branch else None
        if rule is not None and identity not in rule["bypass"]:
            # "Troubleshooting rules" (https://docs.github.com/en/repositories/configuring-branches-and-merges-in-
            # your-repository/managing-rulesets/troubleshooting-rules): a push a rule rejects fails with GH013.
            print(f"error: GH013: Repository rule violations found for {ref}.", file=sys.stderr)
            print(
                f"Review all repository rules at https://github.com/{state['repository']}/rules?ref="
                f"{ref.replace('/', '%2F')}",
                file=sys.stderr,
            )
            print("- Changes must be made through a pull request.", file=sys.stderr)
            print(f"(pushed by {identity}, not on the bypass list)", file=sys.stderr)
            return 1
    return 0


def tag_rule_refusal(state: dict, identity: str, old: str, new: str, ref: str) -> str | None:
    """Why a tag ruleset refuses this ref update (GitHub's message for the rule), or None. "Available rules for
    rulesets": Restrict creations / updates / deletions; a push a rule rejects fails with GH013."""
    if not ref.startswith("refs/tags/"):
        return None
    name = ref.removeprefix("refs/tags/")
    for rule in state.get("tag_rules", []):
        if identity in rule["bypass"] or not any(fnmatch.fnmatchcase(name, p) for p in rule["patterns"]):
            continue
        if old == ZERO:
            return "Cannot create ref due to creations being restricted."
        if new == ZERO:
            return "Cannot delete this protected ref."
        return "Cannot update this protected ref."
    return None
