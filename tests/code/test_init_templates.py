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
    for name in templates.AWS_FILES:
        shipped = ROOT / "src/retrain/init/aws" / name
        assert shipped.read_text() == (ROOT / "docs/aws" / name).read_text(), f"{name}: copy docs/aws/{name} over it"


def test_callers_pin_the_installed_engines_tag() -> None:
    engine = Engine.installed()
    assert engine.tag == f"v{VERSION}"
    written = templates.files(engine, Ci.BOTH, "acme/team")
    for path in (templates.PR_WORKFLOW, templates.RELEASE_WORKFLOW, templates.PROMOTE_WORKFLOW):
        (job,) = yaml.safe_load(written[path])["jobs"].values()
        assert job["uses"].endswith(f".github/workflows/{Path(job['uses'].split('@')[0]).name}@v{VERSION}")
        assert job["uses"].startswith(f"{engine.repository}/.github/workflows/") and job["secrets"] == "inherit"
    assert '"repo:acme/team:pull_request"' in written[f"{templates.AWS_DIR}/pr-role-trust.json"]


@pytest.mark.parametrize("ci", list(Ci))
def test_the_ci_files_are_valid(tmp_path: Path, ci: Ci) -> None:
    written = templates.files(Engine("owner/engine", "v9.9.9"), ci, None)
    for path, text in written.items():
        (tmp_path / Path(path).name).write_text(text)
    (update,) = yaml.safe_load(written[templates.DEPENDABOT])["updates"]
    assert update["package-ecosystem"] == "github-actions" and update["directory"] == "/"  # the callers' refs
    for path, schema in ((templates.PR_WORKFLOW, "github-workflows"), (templates.RELEASE_WORKFLOW, "github-workflows"),
                         (templates.TRAVIS, "travis"), (templates.DEPENDABOT, "dependabot"),
                         (templates.PROMOTE_WORKFLOW, "github-workflows")):  # fmt: skip
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
