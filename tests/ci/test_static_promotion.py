"""promote.yml read without running it: its trigger and inputs, develop only (its guard job's script run with bash),
one GitHub Environment per stage, no overlapping changes to a stage, thin steps, and the stage tags pushed with the
release App's token (the tag ruleset). No workflow publishes on a pushed tag (test_static.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.ci.test_static import ROOT, load

PROMOTE = ROOT / ".github/workflows/promote.yml"


def gto_stages() -> list[str]:
    return yaml.safe_load((ROOT / ".gto").read_text())["stages"]


def run_text(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_promote_is_dispatched_by_hand_with_an_action_a_version_a_stage_and_a_note():
    spec = load(PROMOTE)
    assert set(spec["on"]) == {"workflow_dispatch"}
    inputs = spec["on"]["workflow_dispatch"]["inputs"]
    assert inputs["action"]["type"] == "choice" and inputs["action"]["options"] == ["promote", "rollback"]
    assert inputs["stage"]["type"] == "choice"
    assert inputs["stage"]["options"] == gto_stages(), "the stage choice must list .gto's stages, in its order"
    assert inputs["version"]["type"] == inputs["note"]["type"] == "string"


def test_promote_runs_in_the_stages_environment_one_change_at_a_time_and_publishes_itself():
    spec = load(PROMOTE)
    assert spec["concurrency"] == {"group": "promote-${{ inputs.stage }}", "cancel-in-progress": False}
    job = spec["jobs"]["promote"]
    assert job["environment"] == "${{ inputs.stage }}"
    text = run_text(job)
    assert 'retrain promote "$VERSION"' in text and "retrain rollback" in text
    # GITHUB_TOKEN's tag pushes start no workflow: the deploy hook would not run, so this job publishes.
    assert text.index("retrain rollback") < text.index("retrain publish --stage")
    assert all("${{" not in step.get("run", "") for step in job["steps"])


def test_promote_runs_from_develop_only_with_develops_engine():
    """A dispatch from another branch would run that branch's promote.yml and engine: the guard job refuses it, every
    job needs the guard, and the checkout is develop's whatever the run's ref."""
    spec = load(PROMOTE)
    guard, job = spec["jobs"]["develop-only"], spec["jobs"]["promote"]
    assert guard["permissions"] == {} and all("uses" not in step for step in guard["steps"]), "no token, no checkout"
    assert job["needs"] == "develop-only"
    checkout = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["ref"] == "develop" and checkout["with"]["fetch-depth"] == 0


def test_promote_pushes_stage_tags_with_the_release_apps_token():
    """Only the release App may create model#* tags (the tag ruleset, docs/ci.md): its token, when configured, is
    what the checkout stores and the push uses; GITHUB_TOKEN only where there is no ruleset."""
    job = load(PROMOTE)["jobs"]["promote"]
    names = [step.get("id") or step.get("uses", "").split("@")[0] for step in job["steps"]]
    app = job["steps"][names.index("app-token")]
    assert app["uses"].startswith("actions/create-github-app-token@")
    assert app["if"] == "vars.RETRAIN_APP_CLIENT_ID != ''"
    assert {k: v for k, v in app["with"].items() if k.startswith("permission-")} == {"permission-contents": "write"}
    checkout = job["steps"][names.index("actions/checkout")]
    assert names.index("app-token") < names.index("actions/checkout")
    assert checkout["with"]["token"] == "${{ steps.app-token.outputs.token || github.token }}"  # noqa: S105


def _guard(tmp_path: Path, ref: str, actor: str = "dee-veloper", dispatch_only: str = "") -> tuple[int, str]:
    """The guard job's script, run by bash as the runner runs it (`bash -e {0}`)."""
    (step,) = load(PROMOTE)["jobs"]["develop-only"]["steps"]
    assert set(step["env"]) == {"REF", "ACTOR", "DISPATCH_ONLY_ACTOR"}
    script = tmp_path / "guard.sh"
    script.write_text(step["run"])
    env = {"PATH": "/usr/bin:/bin", "REF": ref, "ACTOR": actor, "DISPATCH_ONLY_ACTOR": dispatch_only}
    result = subprocess.run(["bash", "-e", str(script)], env=env, capture_output=True, text=True, check=False)
    return result.returncode, result.stdout


@pytest.mark.parametrize(
    ("ref", "actor", "dispatch_only", "allowed"),
    [
        ("refs/heads/develop", "dee-veloper", "", True),
        ("refs/heads/develop", "dee-veloper", "acme-ci-bot", True),
        ("refs/heads/feature-x", "dee-veloper", "", False),
        ("refs/tags/model#prod#3", "dee-veloper", "", False),
        ("refs/heads/develop", "acme-ci-bot", "acme-ci-bot", False),
    ],
)
def test_the_guard_refuses_other_branches_and_the_dispatch_only_user(ref, actor, dispatch_only, allowed, tmp_path):
    code, output = _guard(tmp_path, ref, actor, dispatch_only)
    assert (code == 0) is allowed, output
    assert ("Promoting from develop." in output) is allowed
    if not allowed:
        assert "::error title=Not promoted::" in output
