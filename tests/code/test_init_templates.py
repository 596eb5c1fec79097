"""What `retrain init` writes besides params.yaml (retrain.init.templates): the AWS policies it ships are docs/aws's,
and the CI callers are valid GitHub Actions and Travis files, pinned to the installed engine's own tag."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from retrain.init import templates
from retrain.init.command import github_repository
from retrain.init.templates import Ci, Engine

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def test_the_shipped_aws_policies_are_docs_aws() -> None:
    for name in templates.AWS_FILES + templates.INGEST_AWS_FILES:
        shipped = ROOT / "src/retrain/init/aws" / name
        assert shipped.read_text() == (ROOT / "docs/aws" / name).read_text(), f"{name}: copy docs/aws/{name} over it"


def test_callers_pin_the_installed_engines_tag() -> None:
    engine = Engine.installed()
    assert engine.tag == f"v{VERSION}"
    written = templates.files(engine, Ci.BOTH, "acme/team", ingest=True)
    callers = (templates.PR_WORKFLOW, templates.RELEASE_WORKFLOW, templates.PROMOTE_WORKFLOW, templates.INGEST_WORKFLOW)
    for path in callers:
        (job,) = yaml.safe_load(written[path])["jobs"].values()
        assert job["uses"].endswith(f".github/workflows/{Path(job['uses'].split('@')[0]).name}@v{VERSION}")
        assert job["uses"].startswith(f"{engine.repository}/.github/workflows/") and job["secrets"] == "inherit"
    assert '"repo:acme/team:pull_request"' in written[f"{templates.AWS_DIR}/pr-role-trust.json"]


@pytest.mark.parametrize("ci", list(Ci))
def test_the_ci_files_are_valid(tmp_path: Path, ci: Ci) -> None:
    written = templates.files(Engine("owner/engine", "v9.9.9"), ci, None, ingest=True)
    for path, text in written.items():
        (tmp_path / Path(path).name).write_text(text)
    (update,) = yaml.safe_load(written[templates.DEPENDABOT])["updates"]
    assert update["package-ecosystem"] == "github-actions" and update["directory"] == "/"  # the callers' refs
    for path, schema in ((templates.PR_WORKFLOW, "github-workflows"), (templates.RELEASE_WORKFLOW, "github-workflows"),
                         (templates.TRAVIS, "travis"), (templates.DEPENDABOT, "dependabot"),
                         (templates.PROMOTE_WORKFLOW, "github-workflows"),
                         (templates.INGEST_WORKFLOW, "github-workflows")):  # fmt: skip
        if path in written:
            checked = subprocess.run(
                [CHECK_JSONSCHEMA, "--builtin-schema", f"vendor.{schema}", tmp_path / Path(path).name],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert checked.returncode == 0, checked.stdout + checked.stderr
    assert (templates.TRAVIS in written) == (ci is not Ci.GITHUB)
    assert (templates.PR_WORKFLOW in written) == (ci is not Ci.TRAVIS)


@pytest.mark.parametrize(
    ("url", "repository"),
    [("https://github.com/acme/team.git", "acme/team"), ("git@github.com:acme/team.git", "acme/team"),
     ("ssh://git@github.com/acme/te.am", "acme/te.am"), ("https://gitlab.com/acme/team.git", None),
     ("/tmp/origin.git", None), (None, None), ("https://github.com/acme/team/../x", None)],
)  # fmt: skip
def test_the_github_repository_of_origin(url: str | None, repository: str | None) -> None:
    assert github_repository(url) == repository


def test_the_promotion_offers_the_stages_of_gto() -> None:
    written = templates.files(Engine("owner/engine", "v1.0.0"), Ci.GITHUB, None, "model", ("qa", "prod"))
    stage = yaml.safe_load(written[templates.PROMOTE_WORKFLOW])[True]["workflow_dispatch"]["inputs"]["stage"]
    assert stage["options"] == ["qa", "prod"]
    assert yaml.safe_load(written[templates.GTO])["stages"] == list(templates.DEFAULT_STAGES)


def _call(text: str) -> tuple[dict, dict, dict]:
    """A caller's triggers, concurrency and its one job."""
    spec = yaml.safe_load(text)
    (job,) = spec["jobs"].values()
    return spec[True], spec["concurrency"], job


@pytest.mark.parametrize(
    ("written", "own"),
    [(templates.PR_WORKFLOW, "pr.yml"), (templates.RELEASE_WORKFLOW, "retrain.yml"),
     (templates.PROMOTE_WORKFLOW, "promote.yml"), (templates.INGEST_WORKFLOW, "ingest.yml")],
)  # fmt: skip
def test_each_generated_caller_makes_the_call_this_repositorys_own_caller_makes(written: str, own: str) -> None:
    """The act tests run this repository's own callers: a generated one calls the same reusable workflow with the
    same triggers, concurrency, permissions and inputs (the engine and requirements aside; the engine's own
    dispatch may offer more), so what the act tests show holds for it."""
    engine = Engine("owner/engine", "v9.9.9")
    on, concurrency, job = _call(templates.files(engine, Ci.GITHUB, None, ingest=True)[written])
    own_on, own_concurrency, own_job = _call((ROOT / ".github/workflows" / own).read_text())
    assert job["uses"] == engine.uses(Path(own_job["uses"]).name)
    assert job["permissions"] == own_job["permissions"] and job["secrets"] == own_job["secrets"] == "inherit"
    assert set(on) == set(own_on) and concurrency == own_concurrency
    for event, trigger in on.items():
        if event == "workflow_dispatch":
            inputs, own_inputs = trigger["inputs"], own_on[event]["inputs"]
            assert set(inputs) <= set(own_inputs)
            assert all(inputs[name]["type"] == own_inputs[name]["type"] for name in inputs)
        elif event != "schedule":
            assert trigger == own_on[event]
    passed = {key: value for key, value in own_job["with"].items() if key not in ("engine", "requirements")}
    assert {key: job["with"][key] for key in passed if key in job["with"]} == {
        key: value for key, value in passed.items() if key in job["with"]
    }
    assert set(job["with"]) - {"requirements"} <= set(passed) and job["with"]["requirements"] == "requirements.txt"


def test_the_ingest_is_written_only_when_asked_with_its_role_and_checklist_step() -> None:
    engine = Engine("owner/engine", "v9.9.9")
    plain, ingest = (templates.files(engine, Ci.GITHUB, "acme/team", ingest=flag) for flag in (False, True))
    assert templates.INGEST_WORKFLOW not in plain and templates.INGEST_WORKFLOW in ingest
    assert f"{templates.AWS_DIR}/ingest-role-trust.json" not in plain
    assert '"repo:acme/team:environment:ingest"' in ingest[f"{templates.AWS_DIR}/ingest-role-trust.json"]
    assert "INGEST_LANDING" not in plain[templates.CHECKLIST]
    assert "`INGEST_LANDING`" in ingest[templates.CHECKLIST] and "retrain-ingest" in ingest[templates.CHECKLIST]
