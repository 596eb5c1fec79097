"""promote.yml and deploy.yml read without running them: their triggers and inputs, one GitHub Environment per
stage, no overlapping changes to a stage, thin steps, and the deploy hook's reading of GTO's stage tags (its
embedded script run with bash on real tag names)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.ci.test_static import ROOT, load

pytestmark = pytest.mark.ci

PROMOTE = ROOT / ".github/workflows/promote.yml"
DEPLOY = ROOT / ".github/workflows/deploy.yml"


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
    (job,) = spec["jobs"].values()
    assert job["environment"] == "${{ inputs.stage }}"
    text = run_text(job)
    assert 'retrain promote "$VERSION"' in text and "retrain rollback" in text
    # GITHUB_TOKEN's tag pushes start no workflow: the deploy hook would not run, so this job publishes.
    assert text.index("retrain rollback") < text.index("retrain publish --stage")
    assert all("${{" not in step.get("run", "") for step in job["steps"])


def test_deploy_runs_on_pushed_stage_tags_only_and_publishes_in_the_stages_environment():
    spec = load(DEPLOY)
    assert spec["on"] == {"push": {"tags": ["*#*"]}}
    deploy = spec["jobs"]["deploy"]
    assert deploy["needs"] == "stage"
    assert deploy["environment"] == "${{ needs.stage.outputs.stage }}"
    assert deploy["concurrency"] == {"group": "deploy-${{ needs.stage.outputs.stage }}", "cancel-in-progress": False}
    assert 'retrain publish --stage "$STAGE" --to "$SERVING_URL"' in run_text(deploy)
    checkout = next(step for step in deploy["steps"] if step.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0, "every tag: the registry"


def _parse(tag: str, tmp_path: Path) -> tuple[int, str]:
    """The deploy hook's tag-parsing step, run by bash as the runner runs it (`bash -e {0}`)."""
    step = load(DEPLOY)["jobs"]["stage"]["steps"][0]
    script = tmp_path / "parse.sh"
    script.write_text(step["run"])
    output = tmp_path / "output"
    output.write_text("")
    env = {"PATH": "/usr/bin:/bin", "TAG": tag, "GITHUB_OUTPUT": str(output)}
    result = subprocess.run(["bash", "-e", str(script)], env=env, capture_output=True, text=True, check=False)
    return result.returncode, output.read_text().strip()


@pytest.mark.parametrize(
    ("tag", "stage"),
    [("model#prod#3", "prod"), ("model#staging!#12", "staging"), ("cv=models=digits#dev#1", "dev")],
)
def test_the_deploy_hook_reads_the_stage_of_a_gto_stage_tag(tag: str, stage: str, tmp_path: Path):
    assert _parse(tag, tmp_path) == (0, f"stage={stage}")


@pytest.mark.parametrize("tag", ["model@v1.2.0", "model#prod", "v1#2", "model#prod#3; echo pwned"])
def test_the_deploy_hook_refuses_anything_else(tag: str, tmp_path: Path):
    code, output = _parse(tag, tmp_path)
    assert code == 1 and output == ""
