"""The CI files read without running them: hardening rules, pins, schemas, linters, and the stand-ins.

The pins and input lists are those of ../shared/reference/ci-facts.md (checked against the actions'
public repositories).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from retrain import decisions
from retrain.announce import HISTORY_ARTIFACT
from retrain.report.markdown import ARTIFACT
from tests.ci.forge import called_jobs
from tests.helpers import sh

CI_DIR = Path(__file__).resolve().parent
ROOT = CI_DIR.parents[1]
BIN = Path(sys.prefix) / "bin"
WORKFLOW_FILES = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
# The workflows GitHub starts (the reusable ones run only inside them, as their callers' jobs).
WORKFLOWS = [path for path in WORKFLOW_FILES if set(yaml.safe_load(path.read_text())[True]) != {"workflow_call"}]
REUSABLE = [path for path in WORKFLOW_FILES if path not in WORKFLOWS]
TRAVIS = ROOT / ".travis.yml"

PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "aws-actions/configure-aws-credentials": ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    "iterative/setup-cml": ("f12ea7685438c1fc438d50f77519b3860cf5fa98", "v2.0.1"),
    "actions/cache": ("27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5"),
    "actions/create-github-app-token": ("1b10c78c7865c340bc4f6099eb2f838309f1e8c3", "v3.1.1"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
}
# actions/create-github-app-token v3.1.1: its action.yml at that commit (one permission-* input per GitHub App
# permission, generated there).
GITHUB_APP_ACTION_INPUTS = (
    "client-id, app-id, private-key, owner, repositories, skip-token-revoke, github-api-url, "
    "permission-actions, permission-administration, permission-artifact-metadata, "
    "permission-attestations, permission-checks, permission-codespaces, permission-contents, "
    "permission-custom-properties-for-organizations, permission-dependabot-secrets, "
    "permission-deployments, permission-discussions, permission-email-addresses, "
    "permission-enterprise-custom-properties-for-organizations, permission-environments, "
    "permission-followers, permission-git-ssh-keys, permission-gpg-keys, permission-interaction-limits, "
    "permission-issues, permission-members, permission-merge-queues, permission-metadata, "
    "permission-organization-administration, permission-organization-announcement-banners, "
    "permission-organization-copilot-seat-management, permission-organization-custom-org-roles, "
    "permission-organization-custom-properties, permission-organization-custom-roles, "
    "permission-organization-events, permission-organization-hooks, permission-organization-packages, "
    "permission-organization-personal-access-token-requests, "
    "permission-organization-personal-access-tokens, permission-organization-plan, "
    "permission-organization-projects, permission-organization-secrets, "
    "permission-organization-self-hosted-runners, permission-organization-user-blocking, "
    "permission-packages, permission-pages, permission-profile, permission-pull-requests, "
    "permission-repository-custom-properties, permission-repository-hooks, "
    "permission-repository-projects, permission-secret-scanning-alerts, permission-secrets, "
    "permission-security-events, permission-single-file, permission-starring, permission-statuses, "
    "permission-team-discussions, permission-vulnerability-alerts, permission-workflows"
)
REAL_INPUTS = {
    "checkout": "repository, ref, token, ssh-key, ssh-known-hosts, ssh-strict, ssh-user, persist-credentials, "
    "path, clean, filter, sparse-checkout, sparse-checkout-cone-mode, fetch-depth, fetch-tags, show-progress, "
    "lfs, submodules, set-safe-directory, github-server-url, allow-unsafe-pr-checkout",
    "setup-python": "python-version, python-version-file, cache, architecture, check-latest, token, "
    "cache-dependency-path, update-environment, allow-prereleases, freethreaded, pip-version",
    "configure-aws-credentials": "aws-region, aws-profile, overwrite-aws-profile, role-to-assume, "
    "aws-access-key-id, aws-secret-access-key, aws-session-token, web-identity-token-file, role-chaining, "
    "audience, http-proxy, no-proxy, mask-aws-account-id, role-duration-seconds, role-external-id, "
    "role-session-name, role-skip-session-tagging, transitive-tag-keys, inline-session-policy, "
    "managed-session-policies, output-credentials, output-env-credentials, unset-current-credentials, "
    "disable-retry, retry-max-attempts, special-characters-workaround, use-existing-credentials, "
    "allowed-account-ids, force-skip-oidc, action-timeout-s, custom-tags, sts-endpoint",
    "setup-cml": "version, vega",
    "cache": "path, key, restore-keys, upload-chunk-size, enableCrossOsArchive, fail-on-cache-miss, lookup-only, "
    "save-always",
    "create-github-app-token": GITHUB_APP_ACTION_INPUTS,
    "upload-artifact": "name, path, if-no-files-found, retention-days, compression-level, overwrite, "
    "include-hidden-files, archive",
}
REAL_OUTPUTS = {
    "checkout": "ref, commit",
    "setup-python": "python-version, cache-hit, python-path",
    "configure-aws-credentials": "aws-account-id, aws-access-key-id, aws-secret-access-key, aws-session-token, "
    "aws-expiration",
    "setup-cml": "",
    "cache": "cache-hit",
    "create-github-app-token": "token, installation-id, app-slug",
    "upload-artifact": "artifact-id, artifact-url, artifact-digest",
}


def raw(path: Path) -> dict:
    spec = yaml.safe_load(path.read_text())
    spec["on"] = spec.pop(True, spec.get("on"))  # YAML 1.1 reads the key `on` as True
    return spec


def load(path: Path) -> dict:
    """A workflow as GitHub runs it: the jobs of the reusable workflows it calls (`uses: ./.github/workflows/X`) in
    place of the calling jobs, each with the permissions GitHub gives it (the forge model's rules: a called job can
    only keep or lower what its caller job grants, else the run fails)."""
    spec = raw(path)
    called = called_jobs(spec, lambda uses: raw(ROOT / uses), "acme/ml-repo", "refs/heads/develop")
    jobs = {}
    for job_id, job in spec["jobs"].items():
        if "uses" not in job:
            jobs[job_id] = job
        for called_id, run in called.items():
            if run.caller_job == job_id:
                jobs[called_id] = run.job
    spec["jobs"] = jobs
    return spec


def steps(spec: dict):
    for job_id, job in spec["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, job, step


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed (requirements-dev.txt)")
    return found


def names(text: str) -> set[str]:
    return {item.strip() for item in text.split(",") if item.strip()}


def test_the_workflows_exist():
    assert {path.name for path in WORKFLOWS} == {"pr.yml", "retrain.yml", "promote.yml", "ingest.yml"}
    assert TRAVIS.exists()


def test_no_workflow_runs_on_a_pushed_tag():
    """A tag push runs the workflow file of the tagged commit, whoever pushed the tag: a forged `model#prod#N` on an
    old commit would publish with that commit's deploy steps. So no workflow has a tag trigger (publishing is
    promote.yml's, dispatched from develop), and every push trigger filters on branches only."""
    for path in WORKFLOWS:
        push = load(path)["on"].get("push")
        if push is not None:
            assert set(push) == {"branches"}, f"{path.name}: {push}"
    assert not (ROOT / ".github" / "workflows" / "deploy.yml").exists()


def test_zizmor_offline_has_no_findings():
    result = sh([tool("zizmor"), "--offline", "--no-progress", ROOT / ".github" / "workflows"], check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_auditor_persona_reports_nothing_not_suppressed_with_a_reason():
    workflows = ROOT / ".github" / "workflows"
    result = sh([tool("zizmor"), "--offline", "--no-progress", "--persona=auditor", workflows], check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            if "zizmor: ignore[" in line:
                reason = line.split("zizmor: ignore[", 1)[1].split("]", 1)[1].strip()
                assert len(reason.split()) >= 2, f"{path.name}: a suppression without a written reason: {line.strip()}"
    assert "No findings" in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("schema", "path"),
    [("vendor.github-workflows", path) for path in WORKFLOW_FILES] + [("vendor.travis", TRAVIS)],
    ids=lambda value: getattr(value, "name", value),
)
def test_files_match_their_schema(schema, path):
    result = sh([tool("check-jsonschema"), "--builtin-schema", schema, path], check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_its_release_commit_with_the_version_in_a_comment(path):
    uses = re.findall(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$", path.read_text(), re.M)
    assert uses
    for ref, rest in uses:
        if ref.startswith("./.github/workflows/"):  # this repository's own reusable workflow, at the same commit
            assert (ROOT / ref).is_file() and ref.count("@") == 0, ref
            continue
        name, _, sha = ref.partition("@")
        assert name in PINS, f"{ref}: not a reviewed action"
        version = rest.strip().split(" # zizmor: ignore[")[0]  # a suppression with its reason may follow
        assert (sha, version) == (PINS[name][0], f"# {PINS[name][1]}"), f"{ref}{rest}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_read_only_at_the_top_and_least_per_job(path):
    spec = load(path)
    assert spec["permissions"] == {"contents": "read"}
    for job_id, job in spec["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{job_id}: no explicit permissions"
        job_steps = job.get("steps", [])
        text = yaml.safe_dump(job_steps)
        assumes_role = any("role-to-assume" in (s.get("with") or {}) for s in job_steps)
        scripts = "\n".join(str(step.get("run", "")) for step in job_steps)
        # A job that always mints a GitHub App token pushes and comments with it: GITHUB_TOKEN only reads. (The
        # release job's App is optional, with GITHUB_TOKEN as the fallback, which then needs contents: write.)
        app_only = any("create-github-app-token" in s.get("uses", "") and "if" not in s for s in job_steps)
        comments = "cml comment" in scripts and not app_only
        tags = re.search(r"retrain (promote|rollback) ", scripts) is not None
        pushes = (re.search(r"--push(?![-\w])", scripts) is not None or tags) and not app_only  # not --push-to
        if not any("uses" in step for step in job_steps) and "retrain" not in text:  # a guard: no token at all
            assert permissions == {}, f"{job_id}: {permissions}"
            continue
        expected = {"contents": "write" if pushes else "read"}
        if assumes_role:
            expected["id-token"] = "write"
        if comments:
            expected["pull-requests"] = "write"
        assert permissions == expected, f"{job_id}: {permissions} != {expected}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_expression_expands_inside_a_run_script(path):
    for job_id, _, step in steps(load(path)):
        if "run" in step:
            assert "${{" not in step["run"], f"{job_id}/{step.get('name')}: pass values through env:"


def test_triggers_and_concurrency():
    pr, retrain = load(ROOT / ".github/workflows/pr.yml"), load(ROOT / ".github/workflows/retrain.yml")
    for spec in (pr, retrain):
        assert "pull_request_target" not in spec["on"]
    # develop -> main pull requests get the checks too (right after a release their head is the release commit)
    assert pr["on"]["pull_request"]["branches"] == ["develop", "main"]
    assert retrain["on"]["push"] == {"branches": ["develop"]}, "branches only: a tag push starts nothing"
    assert set(retrain["on"]["workflow_dispatch"]["inputs"]) >= {"force", "dry_run", "note"}
    assert retrain["on"]["workflow_dispatch"]["inputs"]["force"]["type"] == "boolean"
    assert retrain["on"]["workflow_dispatch"]["inputs"]["dry_run"]["type"] == "boolean"
    group = "retrain-develop"
    release_commit = "format('retrain-release-commit-{0}', github.sha)"
    assert retrain["concurrency"] == {
        "group": f"${{{{ ({RELEASE_COMMIT}) && {release_commit} || '{group}' }}}}",
        "cancel-in-progress": False,
    }, "one group for retrains; a release commit's run, which releases nothing, in its own (the guard's test)"


def test_no_path_filter_and_no_skip_instruction_can_leave_a_required_check_pending():
    """A workflow skipped by a path filter, or by a skip instruction in the head commit, leaves its required check
    Pending (GitHub docs, "Skipping workflow runs", "Required status checks"): none of the triggers filters on paths,
    and the engine's commit mark is no skip instruction; "nothing to reproduce" is decided inside the job."""
    from tests.ci.forge import skip_instruction

    for path in WORKFLOWS:
        for event, trigger in load(path)["on"].items():
            filters = set(trigger) if isinstance(trigger, dict) else set()  # `schedule:` is a list of crons
            assert not {"paths", "paths-ignore"} & filters, f"{path.name}: {event} filters paths"
    assert skip_instruction(decisions.commit_message(5, {}, "accuracy", 0.9, {})) is None
    assert "--reproduce" in (ROOT / ".github/workflows/pr.yml").read_text()


# The release commit on GitHub: the message's final line is the trailer. GitHub's expressions have no regex and no
# escapes in string literals, but toJSON writes a line break as the two characters \\n (and ends with a quote).
RELEASE_COMMIT = " || ".join(
    f"endsWith(toJSON(github.event.head_commit.message), '\\n{decisions.COMMIT_MARK}{end}\"')" for end in ("", "\\n")
)
# Messages a merge to develop may carry, and whether each is the engine's release commit (its run releases nothing).
SQUASH_QUOTING_THE_TRAILER = (
    "Fix the data loader (#12)\n\n* Revert the release of v1.3.0\n\nThis reverts the commit whose message was:\n\n"
    f"    retrain: +5 rows; accuracy 0.9000\n\n    {decisions.COMMIT_MARK}\n\n* Read the new column\n"
)
MESSAGES = {
    "the engine's release commit": (decisions.commit_message(5, {}, "accuracy", 0.9, {}), True),
    "the engine's release commit, final line break dropped": (
        decisions.commit_message(5, {}, "accuracy", 0.9, {}).rstrip("\n"),
        True,
    ),
    "a squash merge quoting the trailer in its body": (SQUASH_QUOTING_THE_TRAILER, False),
    "a subject that names the trailer": (f"Docs: explain {decisions.COMMIT_MARK}\n", False),
    "a merge": ("Merge pull request #7 from acme/feature\n\nTune C\n", False),
}


def github_release_commit(expression: str, message: str | None) -> bool:
    """GitHub's evaluation of RELEASE_COMMIT for a push's head-commit message: toJSON of the string, then endsWith
    (which GitHub compares case-insensitively). Only the expression's own shape is modelled, and it must be it."""
    assert expression == RELEASE_COMMIT, expression
    literals = re.findall(r"'((?:[^']|'')*)'\)", expression)
    rendered = json.dumps(message).lower()
    return any(rendered.endswith(literal.replace("''", "'").lower()) for literal in literals)


@pytest.mark.parametrize("case", sorted(MESSAGES))
def test_the_release_commit_is_its_final_trailer_line_on_github_and_on_travis(case):
    """A squash merge that quotes the trailer in its body releases; the engine's own release commit does not, on
    GitHub (the guard job's `if:` and the concurrency group, one test) and on Travis (the build condition, Ruby's
    regex), and both agree with the engine's matcher, retrain.decisions.has_commit_mark."""
    from tests.ci.conftest import travis_jobs

    message, is_release_commit = MESSAGES[case]
    assert decisions.has_commit_mark(message) is is_release_commit
    retrain = load(ROOT / ".github/workflows/retrain.yml")
    guard = retrain["jobs"]["release-branch"]["if"]
    assert guard.startswith("${{ !(") and guard.endswith(") }}"), guard
    assert github_release_commit(guard[len("${{ !(") : -len(") }}")], message) is is_release_commit
    group = retrain["concurrency"]["group"]
    assert github_release_commit(group[len("${{ (") : group.index(") && format(")], message) is is_release_commit
    travis = yaml.safe_load(TRAVIS.read_text())
    for ending in ("", "\n"):  # whether Travis's commit_message keeps the final line break or not
        event = {"type": "push", "branch": "develop", "commit_message": message.rstrip("\n") + ending}
        assert (travis_jobs(travis, event) == []) is is_release_commit, (case, ending)


def test_the_release_commit_is_recognised_by_its_trailer_on_github_and_on_travis():
    """The push of the engine's release commit starts no release: a job-level condition on GitHub (the guard job
    every other job needs), a build condition on Travis, both on retrain.decisions.COMMIT_MARK."""
    from tests.ci.conftest import travis_jobs

    retrain = load(ROOT / ".github/workflows/retrain.yml")
    guard = retrain["jobs"]["release-branch"]
    assert guard["if"] == f"${{{{ !({RELEASE_COMMIT}) }}}}"
    for job_id, job in retrain["jobs"].items():
        if job_id != "release-branch":
            needs = job["needs"] if isinstance(job["needs"], list) else [job["needs"]]
            assert "release-branch" in needs, f"{job_id} runs without the guard"
    travis = yaml.safe_load(TRAVIS.read_text())
    release_commit = decisions.commit_message(5, {}, "accuracy", 0.9, {})
    assert travis_jobs(travis, {"type": "push", "branch": "develop", "commit_message": release_commit}) == []
    merge = "Merge pull request #7 from acme/feature"
    assert len(travis_jobs(travis, {"type": "push", "branch": "develop", "commit_message": merge})) == 1
    for base in ("develop", "main"):  # a pull request whose head is the release commit still builds
        event = {"type": "pull_request", "branch": base, "commit_message": release_commit}
        assert len(travis_jobs(travis, event)) == 1


def test_dispatch_inputs_say_what_happens_and_a_note_is_one_argument():
    retrain = load(ROOT / ".github/workflows/retrain.yml")
    inputs = retrain["on"]["workflow_dispatch"]["inputs"]
    assert "no commit, no tag, no git push, no comment" in inputs["dry_run"]["description"]
    assert "uploads" in inputs["dry_run"]["description"], "what a dry run does send"
    assert "--note=VALUE" in inputs["note"]["description"]
    run = next(s["run"] for s in retrain["jobs"]["retrain"]["steps"] if s.get("id") == "run")
    assert 'args+=("--note=$NOTE")' in run, "--note VALUE would read a note starting with - as an option"
    guard = "\n".join(s["run"] for s in retrain["jobs"]["release-branch"]["steps"])
    assert "refs/heads/develop" in guard and "exit 1" in guard


def test_the_release_pushes_with_the_app_token_minted_after_the_long_work():
    """An installation token lasts one hour and the job up to 180 minutes: the long part (`retrain run --dry-run`:
    reproduce, upload, verify, gate) runs first without it; the token is minted next, put where git reads the
    push credentials, and `retrain run --push` then releases from the run-cache in minutes."""
    retrain = load(ROOT / ".github/workflows/retrain.yml")
    job = retrain["jobs"]["retrain"]
    job_steps = job["steps"]
    index = {s.get("id") or s.get("name"): i for i, s in enumerate(job_steps)}
    app = job_steps[index["app-token"]]
    assert app["if"] == "${{ vars.RETRAIN_APP_CLIENT_ID != '' && !inputs.dry_run }}"
    assert app["with"]["client-id"] == "${{ vars.RETRAIN_APP_CLIENT_ID }}"
    assert app["with"]["private-key"] == "${{ secrets.RETRAIN_APP_PRIVATE_KEY }}"
    permissions = {key: value for key, value in app["with"].items() if key.startswith("permission-")}
    assert permissions == {"permission-contents": "write", "permission-pull-requests": "write"}, "only what it needs"
    checkout = next(i for i, s in enumerate(job_steps) if s.get("uses", "").startswith("actions/checkout@"))
    assert job_steps[checkout]["with"]["token"] == "${{ github.token }}"  # noqa: S105 (an expression)
    credentials = next(i for i, s in enumerate(job_steps) if "extraheader" in s.get("run", ""))
    reproduce, release = job_steps[index["reproduce"]], job_steps[index["run"]]
    assert "--dry-run" in reproduce["run"] and "--push" not in reproduce["run"]
    assert "--push" in release["run"] and "--force" not in release["run"], "the release restores, it does not redo"
    assert checkout < index["reproduce"] < index["app-token"] < credentials < index["run"], "minted just before"
    assert job_steps[credentials]["env"] == {"APP_TOKEN": "${{ steps.app-token.outputs.token }}"}
    assert job_steps[credentials]["if"] == "steps.app-token.outputs.token != ''"
    # nothing after the token is long: the release from the run-cache, the uploads, the history page (seconds: one
    # git call each for tags, files and merges), the comments, the summary
    assert job["timeout-minutes"] == 180 and len(job_steps) - index["app-token"] == 8
    for later in job_steps[index["app-token"] + 1 :]:
        assert "retrain run" not in later.get("run", "") or later is release


def test_only_the_pushing_checkout_keeps_its_credentials():
    kept = []
    for path in WORKFLOWS:
        for job_id, job, step in steps(load(path)):
            if step.get("uses", "").startswith("actions/checkout@"):
                persist = str((step.get("with") or {}).get("persist-credentials", "true")).lower()
                if persist != "false":
                    kept.append((path.name, job_id))
                    token = (step.get("with") or {}).get("token", "")
                    # GITHUB_TOKEN needs contents: write to push; an App token carries its own permissions, in
                    # the checkout or in the header a later step puts in its place before the push.
                    replaced = any("extraheader" in str(later.get("run", "")) for later in job["steps"])
                    app_token = "steps.app.outputs.token" in token or replaced
                    assert job["permissions"].get("contents") == "write" or app_token, job_id
    assert sorted(kept) == [("ingest.yml", "ingest"), ("promote.yml", "promote"), ("retrain.yml", "retrain")]


# The role variable(s) each job assumes, and whether static keys are its fallback. The ingest job has its own,
# narrower role (batch objects only), and in release mode the release role; the launch job an EC2-only role of its
# own, OIDC only (no keys that would end up in the instance's start-up script).
ROLE_VARIABLES = {
    ("pr.yml", "report"): ({"AWS_ROLE_ARN"}, True),
    ("retrain.yml", "launch-runner"): ({"RUNNER_LAUNCH_ROLE_ARN"}, False),
    ("retrain.yml", "retrain"): ({"AWS_ROLE_ARN"}, True),
    ("ingest.yml", "ingest"): ({"INGEST_AWS_ROLE_ARN", "AWS_ROLE_ARN"}, True),
    ("promote.yml", "promote"): ({"AWS_ROLE_ARN"}, True),
}


def test_credentials_come_from_an_oidc_role_variable_with_static_keys_as_fallback():
    found = {}
    for path in WORKFLOWS:
        for job_id, job in load(path)["jobs"].items():
            aws = [s for s in job.get("steps", []) if "configure-aws-credentials" in s.get("uses", "")]
            if not aws:
                continue
            roles = [s for s in aws if "role-to-assume" in s["with"]]
            keys = [s for s in aws if "aws-access-key-id" in s["with"]]
            variables = {re.fullmatch(r"\$\{\{ vars\.(\w+) \}\}", s["with"]["role-to-assume"])[1] for s in roles}
            found[(path.name, job_id)] = (variables, bool(keys))
            assert all("aws-access-key-id" not in s["with"] for s in roles), "OIDC gets no static keys"
            for step in roles:
                variable = re.search(r"vars\.(\w+)", step["with"]["role-to-assume"])[1]
                assert step.get("if") is None or f"vars.{variable} != ''" in step["if"], step["name"]
            for step in keys:
                assert all(f"vars.{v} == ''" in step["if"] for v in variables), "keys only while no role is set"
    assert found == ROLE_VARIABLES


def test_ingest_is_scheduled_serialised_and_thin():
    spec = load(ROOT / ".github/workflows/ingest.yml")
    assert set(spec["on"]) == {"schedule", "workflow_dispatch"}
    assert spec["on"]["schedule"][0]["cron"].count(" ") == 4
    assert spec["concurrency"] == {"group": "ingest", "cancel-in-progress": False}
    (job,) = spec["jobs"].values()
    # A plain ingest in `ingest` (its App, its role: batch objects only); release mode runs as a release.
    mode = "inputs.release || vars.INGEST_RELEASE == 'true'"
    assert job["environment"] == f"${{{{ ({mode}) && 'release' || 'ingest' }}}}"
    assert job["env"]["RELEASE_MODE"] == f"${{{{ {mode} }}}}"
    assert '[ "$RELEASE_MODE" = "true" ]' in job["steps"][-2]["run"] and "--release" in job["steps"][-2]["run"]
    app = next(step for step in job["steps"] if "create-github-app-token" in step.get("uses", ""))
    release_mode = "env.RELEASE_MODE == 'true'"
    assert (
        app["with"]["client-id"]
        == f"${{{{ {release_mode} && vars.RETRAIN_APP_CLIENT_ID || vars.INGEST_APP_CLIENT_ID }}}}"
    )
    assert app["with"]["private-key"] == (
        f"${{{{ {release_mode} && secrets.RETRAIN_APP_PRIVATE_KEY || secrets.INGEST_APP_PRIVATE_KEY }}}}"
    )
    roles = {
        step["with"]["role-to-assume"]: step["if"]
        for step in job["steps"]
        if "role-to-assume" in (step.get("with") or {})
    }
    assert roles == {
        "${{ vars.INGEST_AWS_ROLE_ARN }}": "env.RELEASE_MODE != 'true' && vars.INGEST_AWS_ROLE_ARN != ''",
        "${{ vars.AWS_ROLE_ARN }}": "env.RELEASE_MODE == 'true' && vars.AWS_ROLE_ARN != ''",
    }
    runs = [step["run"] for step in job["steps"] if "run" in step]
    calls = [line.strip() for text in runs for line in text.splitlines() if re.match(r"^\s*retrain ", line)]
    assert calls == ['retrain "${args[@]}" || status=$?', 'retrain "${args[@]}"'], "held, then resumed"
    app = next(step for step in job["steps"] if "create-github-app-token" in step.get("uses", ""))
    asked = {key: value for key, value in app["with"].items() if key.startswith("permission-")}
    assert asked == {"permission-contents": "write", "permission-pull-requests": "write"}
    assert "cml pr create" in runs[-1] and "cml comment update" in runs[-1]


def test_the_ingest_pushes_with_the_app_token_minted_after_the_long_work():
    """The ingest job may run 120 minutes and an installation token lasts one hour: `retrain ingest --hold` (list,
    download, validate, upload; a release as a dry run) pushes nothing and runs with GITHUB_TOKEN, which only
    reads; the App token is minted next, put where git reads push credentials, and `--resume` pushes."""
    job = load(ROOT / ".github/workflows/ingest.yml")["jobs"]["ingest"]
    job_steps = job["steps"]
    index = {s.get("id") or s.get("name"): i for i, s in enumerate(job_steps)}
    checkout = next(i for i, s in enumerate(job_steps) if s.get("uses", "").startswith("actions/checkout@"))
    assert job_steps[checkout]["with"]["token"] == "${{ github.token }}"  # noqa: S105 (an expression)
    hold, resume = job_steps[index["hold"]]["run"], job_steps[index["ingest"]]["run"]
    assert "--hold)" in hold and "--push" not in hold and "--resume" not in hold
    assert "--resume)" in resume and "--rescan" not in resume, "the resume lists nothing new"
    credentials = next(i for i, s in enumerate(job_steps) if "extraheader" in s.get("run", ""))
    assert job_steps[credentials]["env"] == {"APP_TOKEN": "${{ steps.app.outputs.token }}"}
    assert checkout < index["hold"] < index["app"] < credentials < index["ingest"], "minted just before the push"
    assert not any("steps.app." in str(step) for step in job_steps[: index["app"]]), "no token before it exists"
    # nothing after the token is long: the push (a release from the run-cache) and the report
    assert len(job_steps) - index["app"] == 4


def test_cml_comments_update_one_pr_comment_and_create_on_merge():
    pr = re.sub(r"\\\n\s*", "", (ROOT / ".github/workflows/report.yml").read_text())  # one line per command
    retrain = re.sub(r"\\\n\s*", "", (ROOT / ".github/workflows/release.yml").read_text())
    assert re.search(r"cml comment update reports/report\.md .*--watermark-title=", pr)
    # not CML's automatic target (the first pull request "associated with" the commit, maybe another open one):
    # each pull request `retrain announce` names
    assert "targets=$(retrain announce --into develop --report reports/report.md)" in retrain
    assert re.search(r'cml comment create reports/report\.md --target="\$target"', retrain)
    assert "GITHUB_STEP_SUMMARY" in retrain
    assert "cml runner launch" in retrain and "--cloud=aws" in retrain and "vars.CML_CLOUD_TYPE" in retrain


def test_the_cloud_runner_serves_only_its_own_run():
    """A repository-wide label lets any workflow of any branch, or a pull request, queue on the instance first. The
    label is this run's and attempt's, handed to the retrain job's runs-on as the launch job's output; `--single`;
    the instance's rights come from an instance profile, not the launch job's session."""
    retrain = load(ROOT / ".github/workflows/retrain.yml")
    launch, job = retrain["jobs"]["launch-runner"], retrain["jobs"]["retrain"]
    label_step = next(s for s in launch["steps"] if s.get("id") == "label")
    assert label_step["run"] == 'echo "label=cml-retrain-$GITHUB_RUN_ID-$GITHUB_RUN_ATTEMPT" >> "$GITHUB_OUTPUT"'
    assert launch["outputs"] == {"label": "${{ steps.label.outputs.label }}"}
    command = next(s for s in launch["steps"] if "cml runner launch" in s.get("run", ""))
    text = re.sub(r"\\\n\s*", "", command["run"])
    assert '--labels="$LABEL"' in text and "--single" in text and '--cloud-permission-set="$INSTANCE_PROFILE"' in text
    assert "--reuse" not in text, "an idle runner of another run is never reused"
    assert command["env"]["LABEL"] == "${{ steps.label.outputs.label }}"
    assert command["env"]["INSTANCE_PROFILE"] == "${{ vars.CML_RUNNER_INSTANCE_PROFILE }}"
    assert 'if [ -z "$INSTANCE_PROFILE" ]' in command["run"], "no launch without an instance profile"
    label = "needs.launch-runner.outputs.label"
    assert job["runs-on"] == (
        f"${{{{ {label} && fromJSON(format('[\"self-hosted\",\"{{0}}\"]', {label})) || 'ubuntu-latest' }}}}"
    )
    assert "cml-retrain" not in str(job["runs-on"]), "no fixed label anywhere"
    # The launch job: its own environment and EC2-only role, no static keys, no release-role session.
    assert launch["environment"] == "cloud-runner"
    aws = [s for s in launch["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    assert [s["with"]["role-to-assume"] for s in aws] == ["${{ vars.RUNNER_LAUNCH_ROLE_ARN }}"]
    assert all("aws-access-key-id" not in s["with"] for s in aws)


def test_reports_stay_in_the_organisation_unless_publishing_is_opted_into():
    """CML uploads a report's local images to its public host (--publish, default true) and reports usage unless
    ITERATIVE_DO_NOT_TRACK=1 (ci-facts.md, "CML command line"): every comment says --publish, from the opt-in
    variable or false; the PNGs are a workflow artifact instead."""
    texts = {path.name: re.sub(r"\\\n\s*", "", path.read_text()) for path in [*WORKFLOW_FILES, TRAVIS]}
    for name, text in texts.items():
        for command in re.findall(r"cml comment (?:create|update) [^\n]*", text):
            assert re.search(
                r'--publish=("\$RETRAIN_PUBLISH_IMAGES"|"\$\{RETRAIN_PUBLISH_IMAGES:-false\}"|false)', command
            ), (
                name,
                command,
            )
        if "cml " in text:
            assert re.search(r"ITERATIVE_DO_NOT_TRACK[:=] ?\"?1", text), name
    for name in ("pr.yml", "retrain.yml"):
        spec = load(ROOT / ".github/workflows" / name)
        job = spec["jobs"]["report" if name == "pr.yml" else "retrain"]
        assert job["env"]["RETRAIN_PUBLISH_IMAGES"] == "${{ vars.RETRAIN_PUBLISH_IMAGES == 'true' }}"
        upload = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
        plots = [s for s in upload if s["with"]["name"] == ARTIFACT]
        assert len(plots) == 1 and plots[0]["with"]["path"] == "reports/*.png"
        assert {s["with"]["name"] for s in upload} <= {ARTIFACT, HISTORY_ARTIFACT}


def test_every_release_uploads_the_history_page_before_the_comment_links_it():
    """After `retrain run --push` (released, up to date or gated, not a dry run), `retrain history --html` writes the
    page and the pinned upload-artifact keeps it as `release-history`, with documented inputs only; the comment
    step, which names that artifact (retrain.announce), comes after both."""
    steps_ = load(ROOT / ".github/workflows/retrain.yml")["jobs"]["retrain"]["steps"]
    ids = [step.get("id") or step["name"] for step in steps_]
    page = next(i for i, step in enumerate(steps_) if step.get("run") == "retrain history --html reports/history")
    upload = next(i for i, step in enumerate(steps_) if step.get("with", {}).get("name") == HISTORY_ARTIFACT)
    comment = next(i for i, step in enumerate(steps_) if "retrain announce" in step.get("run", ""))
    assert ids.index("run") < page < upload < comment
    for step in (steps_[page], steps_[upload]):
        assert step["if"] == "${{ !cancelled() && steps.run.outcome != 'skipped' }}"
    sha, version = PINS["actions/upload-artifact"]
    assert steps_[upload]["uses"] == f"actions/upload-artifact@{sha}"
    assert steps_[upload]["with"] == {
        "name": HISTORY_ARTIFACT,
        "path": "reports/history/index.html",
        "if-no-files-found": "error",
        "retention-days": 90,
    }
    assert set(steps_[upload]["with"]) <= names(REAL_INPUTS["upload-artifact"]), version


def test_travis_runs_the_same_commands_on_the_right_builds():
    spec = yaml.safe_load(TRAVIS.read_text())
    jobs = {job["if"]: job for job in spec["jobs"]["include"]}
    pr_if, push_if = "type = pull_request AND branch IN (develop, main)", "type IN (push, api) AND branch = develop"
    cron_if = "type = cron AND branch = develop"
    assert set(jobs) == {pr_if, push_if, cron_if}
    text = TRAVIS.read_text()
    assert "make install-runtime" in spec["install"][1]
    pr_script = "\n".join(jobs[pr_if]["script"])
    assert 'retrain report --base "origin/$TRAVIS_BRANCH" --reproduce' in pr_script
    assert text.count("--driver=github") == 1
    # GitHub Actions and Travis both on: their comments never update each other's (distinct watermark titles)
    github_titles = set(re.findall(r'--watermark-title="([^"]+)"', "\n".join(p.read_text() for p in WORKFLOW_FILES)))
    travis_titles = set(re.findall(r'--watermark-title="([^"]+)"', text))
    assert len(travis_titles) == 1 and github_titles and not github_titles & travis_titles
    # The release and the ingest are GitHub's: Travis dispatches them on develop, installing nothing.
    assert jobs[push_if]["script"] == ["python3 scripts/dispatch_workflow.py retrain.yml --ref develop"]
    assert jobs[cron_if]["script"] == ["python3 scripts/dispatch_workflow.py ingest.yml --ref develop"]
    assert jobs[push_if]["install"] == jobs[cron_if]["install"] == "skip"
    assert "secure:" not in text, "credentials are encrypted settings, not in the file"


# Travis's settings variables that .travis.yml may read, and what each can do (docs/ci.md, "Travis CI").
TRAVIS_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "read-only keys (pr-role-permissions.json)",
    "AWS_SECRET_ACCESS_KEY": "read-only keys (pr-role-permissions.json)",
    "PR_COMMENT_TOKEN": "fine-grained: Pull requests: write",
    "GITHUB_DISPATCH_TOKEN": "fine-grained: Actions: write",
}


def test_travis_holds_no_credential_that_can_push_tag_or_write_where_releases_read():
    """A same-repository pull request into develop sees Travis's develop-restricted variables and can edit
    .travis.yml to print them: so .travis.yml reads no credential but the read-only keys, the comment token and
    the dispatch token, pushes nothing (no git push, no --push, no credential header), and never releases or
    ingests itself."""
    text = TRAVIS.read_text()
    commands = "\n".join(command for _, command in _shell_snippets() if _.startswith(".travis.yml"))
    read = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*(?:TOKEN|KEY|KEY_ID|SECRET\w*))\b", commands))
    assert read <= set(TRAVIS_CREDENTIALS), read - set(TRAVIS_CREDENTIALS)
    assert 'REPO_TOKEN="$PR_COMMENT_TOKEN" cml comment update' in commands, "CML posts with the comment token only"
    for forbidden in ("git push", "extraheader", "x-access-token", "REPO_TOKEN:-", "--release", "AWS_SESSION_TOKEN"):
        assert forbidden not in text, forbidden
    assert re.search(r"--push(?![-\w])", commands) is None, "only --push-to s3remote-pr"
    assert re.findall(r"--push-to (\S+)", commands) == ["s3remote-pr"]
    for retrain_command in re.findall(r"^\s*retrain (\w+)", commands, re.M):
        assert retrain_command == "report", retrain_command


def _shell_snippets() -> list[tuple[str, str]]:
    snippets = []
    for path in WORKFLOWS:
        for job_id, _, step in steps(load(path)):
            if "run" in step:
                snippets.append((f"{path.name}:{job_id}:{step.get('name', '?')}", step["run"]))
    spec = yaml.safe_load(TRAVIS.read_text())
    commands = list(spec.get("install", []))
    for job in spec["jobs"]["include"]:
        commands += list(job.get("before_install", [])) + list(job.get("script", []))
    snippets += [(f".travis.yml:{i}", command) for i, command in enumerate(commands)]
    return snippets


def test_embedded_shell_and_stand_in_scripts_pass_shellcheck(tmp_path):
    files = []
    for i, (label, body) in enumerate(_shell_snippets()):
        path = tmp_path / f"snippet-{i}.sh"
        path.write_text(f"#!/usr/bin/env bash\n# {label}\n{body}\n")
        files.append(path)
    files += [*sorted(CI_DIR.glob("actions/*/*.sh")), CI_DIR / "bin" / "cml"]
    result = sh([tool("shellcheck"), "--shell=bash", *files], check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(REAL_INPUTS))
def test_each_stand_in_accepts_exactly_the_real_inputs_and_outputs(name):
    spec = yaml.safe_load((CI_DIR / "actions" / name / "action.yml").read_text())
    assert set(spec["inputs"]) == names(REAL_INPUTS[name])
    assert set(spec.get("outputs") or {}) == names(REAL_OUTPUTS[name])
    assert spec["runs"]["using"] == "composite"


def test_every_action_the_workflows_use_has_a_stand_in():
    used = {ref.split("@")[0] for path in WORKFLOWS for _, _, s in steps(load(path)) if (ref := s.get("uses"))}
    assert used == set(PINS)
    for name in used:
        assert (CI_DIR / "actions" / name.split("/")[1] / "action.yml").exists()


def test_ci_installs_only_the_runtime_lock_with_uv_cache_keyed_by_it():
    """Every job that installs restores uv's cache under a key that changes with what it installs, then installs
    requirements.lock (not the test tools), each through its reusable workflow's own install step, which needs
    nothing of the Makefile (adopters have none), with requirements.lock and this commit's engine passed in by this
    repository's callers. Travis caches the same folder."""
    installs = {}
    for path in WORKFLOWS:
        for job_id, job in load(path)["jobs"].items():
            job_steps = job.get("steps", [])
            runs = [
                i for i, s in enumerate(job_steps) if "make install" in s.get("run", "") or "uv pip" in s.get("run", "")
            ]
            if not runs:
                continue
            installs[(path.name, job_id)] = runs
            caches = [i for i, s in enumerate(job_steps) if s.get("uses", "").startswith("actions/cache@")]
            assert len(caches) == 1 and caches[0] < runs[0], f"{path.name}:{job_id}: restore uv's cache first"
            cache = job_steps[caches[0]]["with"]
            assert cache["path"] == "~/.cache/uv" and cache["restore-keys"] == "uv-${{ runner.os }}-"
            (step,) = (job_steps[i] for i in runs)
            assert "make" not in step["run"] and step["env"]["REQUIREMENTS"] == "${{ inputs.requirements }}"
            assert cache["key"] == "uv-${{ runner.os }}-${{ hashFiles(inputs.requirements) }}"
    assert sorted(installs) == [("ingest.yml", "ingest"), ("pr.yml", "report"), ("promote.yml", "promote"),
                                ("retrain.yml", "retrain")]  # fmt: skip
    for caller in ("pr.yml", "retrain.yml", "promote.yml", "ingest.yml"):
        (job,) = raw(ROOT / ".github/workflows" / caller)["jobs"].values()
        assert job["with"]["requirements"] == "requirements.lock" and job["with"]["engine"] == "."
    spec = yaml.safe_load(TRAVIS.read_text())
    assert "$HOME/.cache/uv" in spec["cache"]["directories"]


@pytest.mark.parametrize("path", REUSABLE, ids=lambda p: p.name)
def test_a_reusable_workflow_installs_the_engine_of_its_own_tag_with_a_pinned_uv(path):
    """Bumping the ref a caller names (`...@vX.Y.Z`, which Dependabot proposes) is the whole upgrade: the engine
    input's default is the release of the same tag, pyproject.toml's version; uv is requirements-uv.lock's version,
    installed with its hashes (pip --require-hashes), so a replaced wheel on the index fails the install."""
    version = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    source = re.search(r'^Source = "https://github.com/(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    inputs = raw(path)["on"]["workflow_call"]["inputs"]
    assert inputs["engine"]["default"] == f"retrain @ git+https://github.com/{source}@v{version}"
    assert inputs["requirements"]["default"] == "requirements.txt"
    lock = (ROOT / "requirements-uv.lock").read_text()
    stanza = re.search(r"^uv==.*?(?=^\S|\Z)", lock, re.M | re.S).group(0)
    locked = " ".join(stanza.replace("\\", " ").split())
    installs = [s for _, _, s in steps(raw(path)) if "uv pip" in s.get("run", "")]
    assert installs and all(s["env"]["UV_REQUIREMENT"] == locked for s in installs)
    assert all('--require-hashes \\\n  -r "$uv_requirements"' in s["run"] for s in installs)


def test_the_reusable_workflows_share_one_install_step():
    """Each reusable workflow holds its own copy of the install step (a called workflow cannot `uses: ./` an action
    of the engine's repository: `./` is the caller's checkout). The copies stay one step: same name, env and script."""
    installs = {
        path.name: (s["name"], s["env"], s["run"])
        for path in REUSABLE
        for _, _, s in steps(raw(path))
        if "uv pip" in s.get("run", "")
    }
    assert len(installs) == len(REUSABLE) and len(set(map(repr, installs.values()))) == 1, sorted(installs)


def test_cml_usage_reporting_is_off_in_every_job_that_installs_or_runs_cml():
    """CML reports usage unless ITERATIVE_DO_NOT_TRACK=1 (ci-facts.md): every job that sets CML up or runs it,
    the cloud-runner launch included, has it in its own or the workflow's env; Travis in env.global."""
    jobs = 0
    for path in WORKFLOWS:
        spec = load(path)
        for job_id, job in spec["jobs"].items():
            job_steps = job.get("steps", [])
            uses_cml = any(s.get("uses", "").startswith("iterative/setup-cml@") for s in job_steps)
            if uses_cml or any(re.search(r"^\s*(\S+=\S+ )?cml ", s.get("run", ""), re.M) for s in job_steps):
                jobs += 1
                env = {**(spec.get("env") or {}), **(job.get("env") or {})}
                assert env.get("ITERATIVE_DO_NOT_TRACK") == "1", f"{path.name}:{job_id}"
    assert jobs == 4, "pr.yml's report, retrain.yml's launch-runner and retrain, ingest.yml's ingest"
    assert "ITERATIVE_DO_NOT_TRACK=1" in yaml.safe_load(TRAVIS.read_text())["env"]["global"]
