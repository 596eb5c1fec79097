"""The CI files read without running them: hardening rules, pins, schemas, linters, and the stand-ins.

The pins and input lists are those of ../shared/reference/ci-facts.md (checked against the actions'
public repositories).
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from retrain import decisions
from retrain.report.markdown import ARTIFACT
from tests.helpers import sh

pytestmark = pytest.mark.ci

CI_DIR = Path(__file__).resolve().parent
ROOT = CI_DIR.parents[1]
BIN = Path(sys.prefix) / "bin"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
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


def load(path: Path) -> dict:
    spec = yaml.safe_load(path.read_text())
    spec["on"] = spec.pop(True, spec.get("on"))  # YAML 1.1 reads the key `on` as True
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
    assert {path.name for path in WORKFLOWS} >= {"pr.yml", "retrain.yml", "promote.yml", "deploy.yml", "ingest.yml"}
    assert TRAVIS.exists()


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
    [("vendor.github-workflows", path) for path in WORKFLOWS] + [("vendor.travis", TRAVIS)],
    ids=lambda value: getattr(value, "name", value),
)
def test_files_match_their_schema(schema, path):
    result = sh([tool("check-jsonschema"), "--builtin-schema", schema, path], check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_its_release_commit_with_the_version_in_a_comment(path):
    uses = re.findall(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$", path.read_text(), re.M)
    assert uses
    for ref, rest in uses:
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
        "group": f"${{{{ contains(github.event.head_commit.message, '{decisions.COMMIT_MARK}') && {release_commit} "
        f"|| '{group}' }}}}",
        "cancel-in-progress": False,
    }, "one group for retrains; a release commit's run, which releases nothing, in its own"


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


def test_the_release_commit_is_recognised_by_its_trailer_on_github_and_on_travis():
    """The push of the engine's release commit starts no release: a job-level condition on GitHub (the guard job
    every other job needs), a build condition on Travis, both on retrain.decisions.COMMIT_MARK."""
    from tests.ci.conftest import travis_jobs

    retrain = load(ROOT / ".github/workflows/retrain.yml")
    guard = retrain["jobs"]["release-branch"]
    assert guard["if"] == f"${{{{ !contains(github.event.head_commit.message, '{decisions.COMMIT_MARK}') }}}}"
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


def test_the_release_pushes_with_the_app_token_when_configured_else_github_token():
    retrain = load(ROOT / ".github/workflows/retrain.yml")
    job_steps = retrain["jobs"]["retrain"]["steps"]
    app = next(s for s in job_steps if s.get("uses", "").startswith("actions/create-github-app-token@"))
    assert app["if"] == "vars.RETRAIN_APP_CLIENT_ID != ''"
    assert app["with"]["client-id"] == "${{ vars.RETRAIN_APP_CLIENT_ID }}"
    assert app["with"]["private-key"] == "${{ secrets.RETRAIN_APP_PRIVATE_KEY }}"
    permissions = {key: value for key, value in app["with"].items() if key.startswith("permission-")}
    assert permissions == {"permission-contents": "write", "permission-pull-requests": "write"}, "only what it needs"
    checkout = next(s for s in job_steps if s.get("uses", "").startswith("actions/checkout@"))
    assert job_steps.index(app) < job_steps.index(checkout), "the checkout stores the token the push uses"
    assert checkout["with"]["token"] == "${{ steps.app-token.outputs.token || github.token }}"  # noqa: S105


def test_only_the_pushing_checkout_keeps_its_credentials():
    kept = []
    for path in WORKFLOWS:
        for job_id, job, step in steps(load(path)):
            if step.get("uses", "").startswith("actions/checkout@"):
                persist = str((step.get("with") or {}).get("persist-credentials", "true")).lower()
                if persist != "false":
                    kept.append((path.name, job_id))
                    token = (step.get("with") or {}).get("token", "")
                    # GITHUB_TOKEN needs contents: write to push; an App token carries its own permissions.
                    assert job["permissions"].get("contents") == "write" or "steps.app.outputs.token" in token
    assert sorted(kept) == [("ingest.yml", "ingest"), ("promote.yml", "promote"), ("retrain.yml", "retrain")]


def test_credentials_come_from_an_oidc_role_variable_with_static_keys_as_fallback():
    for path in WORKFLOWS:
        aws = [s for _, _, s in steps(load(path)) if "configure-aws-credentials" in s.get("uses", "")]
        assert aws, path.name
        roles = [s for s in aws if "role-to-assume" in s["with"]]
        keys = [s for s in aws if "aws-access-key-id" in s["with"]]
        # The ingest job has its own, narrower role (landing, rejected/, data remote).
        variable = "INGEST_AWS_ROLE_ARN" if path.name == "ingest.yml" else "AWS_ROLE_ARN"
        assert all(s["with"]["role-to-assume"] == f"${{{{ vars.{variable} }}}}" for s in roles)
        assert all("aws-access-key-id" not in s["with"] for s in roles), "OIDC gets no static keys"
        assert all(f"vars.{variable} == ''" in s["if"] for s in keys), "keys only while no role is set"


def test_ingest_is_scheduled_serialised_and_thin():
    spec = load(ROOT / ".github/workflows/ingest.yml")
    assert set(spec["on"]) == {"schedule", "workflow_dispatch"}
    assert spec["on"]["schedule"][0]["cron"].count(" ") == 4
    assert spec["concurrency"] == {"group": "ingest", "cancel-in-progress": False}
    (job,) = spec["jobs"].values()
    assert job["environment"] == "ingest", "the App key and the ingest role are scoped to one environment"
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert sum(len(re.findall(r"^\s*retrain ", text, re.M)) for text in runs) == 1, "one retrain call"
    assert 'ingest "$LANDING"' in runs[1] and "--push" in runs[1]
    app = next(step for step in job["steps"] if "create-github-app-token" in step.get("uses", ""))
    asked = {key: value for key, value in app["with"].items() if key.startswith("permission-")}
    assert asked == {"permission-contents": "write", "permission-pull-requests": "write"}
    assert "cml pr create" in runs[-1] and "cml comment update" in runs[-1]


def test_cml_comments_update_one_pr_comment_and_create_on_merge():
    pr = re.sub(r"\\\n\s*", "", (ROOT / ".github/workflows/pr.yml").read_text())  # one line per command
    retrain = re.sub(r"\\\n\s*", "", (ROOT / ".github/workflows/retrain.yml").read_text())
    assert re.search(r"cml comment update reports/report\.md .*--watermark-title=", pr)
    # not CML's automatic target (the first pull request "associated with" the commit, maybe another open one):
    # each pull request `retrain announce` names
    assert "targets=$(retrain announce --into develop --report reports/report.md)" in retrain
    assert re.search(r'cml comment create reports/report\.md --target="\$target"', retrain)
    assert "GITHUB_STEP_SUMMARY" in retrain
    assert "cml runner launch" in retrain and "--cloud=aws" in retrain and "vars.CML_CLOUD_TYPE" in retrain


def test_reports_stay_in_the_organisation_unless_publishing_is_opted_into():
    """CML uploads a report's local images to its public host (--publish, default true) and reports usage unless
    ITERATIVE_DO_NOT_TRACK=1 (ci-facts.md, "CML command line"): every comment says --publish, from the opt-in
    variable or false; the PNGs are a workflow artifact instead."""
    texts = {path.name: re.sub(r"\\\n\s*", "", path.read_text()) for path in [*WORKFLOWS, TRAVIS]}
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
        assert [s["with"]["name"] for s in upload] == [ARTIFACT] and upload[0]["with"]["path"] == "reports/*.png"


def test_travis_runs_the_same_commands_on_the_right_builds():
    spec = yaml.safe_load(TRAVIS.read_text())
    jobs = {job["if"]: job for job in spec["jobs"]["include"]}
    pr_if, push_if = "type = pull_request AND branch IN (develop, main)", "type IN (push, api) AND branch = develop"
    cron_if = "type = cron AND branch = develop"
    assert set(jobs) == {pr_if, push_if, cron_if}
    text = TRAVIS.read_text()
    assert "make install-runtime" in spec["install"][1]
    pr_script = "\n".join(jobs[pr_if]["script"])
    push_script = "\n".join(jobs[push_if]["script"])
    assert 'retrain report --base "origin/$TRAVIS_BRANCH" --reproduce' in pr_script
    assert "retrain run --remote" in push_script and "--push" in push_script
    assert "retrain announce --into develop" in push_script
    assert text.count("--driver=github") == 4
    # GitHub Actions and Travis both on: their comments never update each other's (distinct watermark titles)
    github_titles = set(re.findall(r'--watermark-title="([^"]+)"', "\n".join(p.read_text() for p in WORKFLOWS)))
    travis_titles = set(re.findall(r'--watermark-title="([^"]+)"', text))
    assert len(travis_titles) == 3 and github_titles and not github_titles & travis_titles
    ingest_script = "\n".join(jobs[cron_if]["script"])
    calls = re.findall(r"^\s*retrain ingest .*$", ingest_script, re.M)
    assert len(calls) == 2 and all("--push" in call for call in calls)  # with or without --release
    assert "cml pr create" in ingest_script
    assert "REPO_TOKEN" in text and "secure:" not in text, "credentials are encrypted settings, not in the file"


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


def test_ci_installs_only_the_runtime_lock_through_make_with_uv_cache_keyed_by_it():
    """Every job that installs runs `make install-runtime` (requirements.lock, not the test tools), after
    restoring uv's cache under a key that changes with that lock; Travis caches the same folder."""
    installs = 0
    for path in WORKFLOWS:
        for job_id, job in load(path)["jobs"].items():
            job_steps = job.get("steps", [])
            runs = [i for i, s in enumerate(job_steps) if "make install" in s.get("run", "")]
            if not runs:
                continue
            installs += 1
            assert all("make install-runtime\n" in job_steps[i]["run"] for i in runs), f"{path.name}:{job_id}"
            caches = [i for i, s in enumerate(job_steps) if s.get("uses", "").startswith("actions/cache@")]
            assert len(caches) == 1 and caches[0] < runs[0], f"{path.name}:{job_id}: restore uv's cache first"
            cache = job_steps[caches[0]]["with"]
            assert cache["path"] == "~/.cache/uv"
            assert cache["key"] == "uv-${{ runner.os }}-${{ hashFiles('requirements.lock') }}"
            assert cache["restore-keys"] == "uv-${{ runner.os }}-"
    assert installs == 5, "the pull-request, retrain, ingest, promote and deploy jobs"
    spec = yaml.safe_load(TRAVIS.read_text())
    assert "$HOME/.cache/uv" in spec["cache"]["directories"]
