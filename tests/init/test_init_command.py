"""`retrain init` in a team's existing DVC repository (not a fork): what it writes, that a second init changes
nothing byte for byte, that a file the team changed is kept and named (and `--force` overwrites it), that dvc.yaml
and the team's code are only read, and that what cannot be derived is one `error:` line naming the option. Then
the project it set up releases with `retrain run`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from retrain import config
from tests.helpers import VENV_BIN, Project, clone_project, doc_block
from tests.helpers.adoption import INIT_ARGS, fetch_data, make_team_origin, snapshot

pytestmark = pytest.mark.slow
WRITTEN = {
    ".gto",
    ".github/workflows/pr.yml",
    ".github/workflows/retrain.yml",
    ".github/workflows/promote.yml",
    ".github/dependabot.yml",
    "docs/retrain/day-one.md",
}
TEAMS = ("dvc.yaml", "stages/split.py", "stages/fit.py", "stages/fetch.py", "data/diabetes.csv.dvc")


@pytest.fixture(scope="module")
def team_origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_team_origin(tmp_path_factory.mktemp("team-seed"))


@pytest.fixture
def team(team_origin: Path, tmp_path: Path) -> Project:
    return clone_project(team_origin, tmp_path)


def init(project: Project, *args: str) -> str:
    result = project.retrain(*(args or INIT_ARGS))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def test_init_writes_everything_then_a_second_init_changes_nothing(team: Project) -> None:
    # origin reads like GitHub's, as in a team's clone: the trust policies and the checklist name the repository
    team.git("config", f"url.{team.origin}.insteadOf", "https://github.com/acme/team.git")
    team.git("remote", "set-url", "origin", "https://github.com/acme/team.git")
    params = (team.root / "params.yaml").read_text()
    before = snapshot(team.root)
    out = init(team)
    after = snapshot(team.root)
    assert {path for path in after if path not in before} >= WRITTEN
    assert all(after[path] == before[path] for path in TEAMS), "init changed the team's pipeline or code"
    assert (team.root / "params.yaml").read_text().startswith(params)
    assert config.load(team.root).primary_metric == "rmse"
    assert out.rstrip().endswith("read the engine's CHANGELOG.md, then merge it.")
    assert "repo:acme/team:environment:release" in out  # the checklist, printed last
    assert "a tag ruleset on `regressor@*` and `regressor#*`" in out  # the team's artifact, from dvc.yaml
    trust = (team.root / "docs/retrain/aws/release-role-trust.json").read_text()
    assert '"repo:acme/team:environment:release"' in trust
    assert ".travis.yml" not in after  # --ci github by default
    second = init(team)
    assert snapshot(team.root) == after, "a second init changed a file"
    assert all(line.endswith(": unchanged") for line in second.splitlines() if line.startswith("init: "))


def test_a_file_the_team_changed_is_kept_and_named_and_force_overwrites_it(team: Project) -> None:
    init(team)
    pr = team.root / ".github/workflows/pr.yml"
    written = pr.read_text()
    pr.write_text(written.replace("branches: [develop, main]", "branches: [develop, main, release]"))
    changed = pr.read_text()
    out = init(team)
    assert pr.read_text() == changed
    assert "init: .github/workflows/pr.yml: kept" in out and "--force" in out
    out = init(team, *INIT_ARGS, "--force")
    assert pr.read_text() == written and "init: .github/workflows/pr.yml: overwritten" in out


def test_other_options_leave_the_teams_section_until_force(team: Project) -> None:
    init(team)
    params = team.root / "params.yaml"
    text = params.read_text()
    out = init(team, *INIT_ARGS[:-1], "absolute")
    assert "init: params.yaml: kept" in out and params.read_text() == text
    init(team, *INIT_ARGS[:-1], "absolute", "--force")
    assert yaml.safe_load(params.read_text())["release"]["threshold"] == "absolute"
    assert params.read_text().split("release:")[0] == text.split("release:")[0]  # the team's lines are as they were


def test_a_teams_own_gto_is_kept_and_its_stages_are_the_promotions(team: Project) -> None:
    gto = team.root / ".gto"
    gto.write_text("stages: [staging, prod]  # ours\n")
    out = init(team)
    assert gto.read_text() == "stages: [staging, prod]  # ours\n" and "init: .gto: kept" in out
    promote = yaml.safe_load((team.root / ".github/workflows/promote.yml").read_text())
    assert promote[True]["workflow_dispatch"]["inputs"]["stage"]["options"] == ["staging", "prod"]


def test_travis_is_written_with_ci_travis_or_both(team: Project) -> None:
    init(team, *INIT_ARGS, "--ci", "travis")
    assert (team.root / ".travis.yml").is_file() and not (team.root / ".github/workflows/pr.yml").exists()
    assert (team.root / ".github/workflows/retrain.yml").is_file()  # releases stay on GitHub Actions
    init(team, *INIT_ARGS, "--ci", "both")
    assert (team.root / ".github/workflows/pr.yml").is_file()


@pytest.mark.parametrize(
    ("args", "option"),
    [(("init",), "--metric NAME"), (("init", "--metric", "rmse"), "--max-regression X"),
     (("init", "--metric", "speed", "--max-regression", "1"), "--direction higher|lower"),
     (("init", "--metric", "rmse", "--max-regression", "lots"), "--max-regression")],
)  # fmt: skip
def test_what_cannot_be_derived_is_one_error_line_and_nothing_written(
    team: Project, args: tuple[str, ...], option: str
) -> None:
    before = snapshot(team.root)
    result = team.retrain(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1 and option in result.stderr
    assert snapshot(team.root) == before


def test_the_project_init_set_up_releases(team: Project) -> None:
    init(team)
    fetch_data(team.root, VENV_BIN, team.env)
    team.git("add", "--all")
    team.git("commit", "--quiet", "-m", "adopt the release engine (retrain init)")
    result = team.retrain("run")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "released regressor@v1.0.0"
    before = snapshot(team.root)
    init(team)
    assert snapshot(team.root) == before


def test_the_adopt_docs_init_block_runs_as_written(team: Project) -> None:
    """docs/adopt.md's `retrain init` block, line by line, in a team's repository with its data on this machine."""
    fetch_data(team.root, VENV_BIN, team.env)
    script = "set -euo pipefail\n" + doc_block("docs/adopt.md", "init")
    result = team.sh("bash", "-c", script, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "released regressor@v1.0.0"
    assert team.git("status", "--porcelain") == ""


def test_ingest_needs_a_folder_of_batches_and_is_one_error_line_without_it(team: Project) -> None:
    """The team's raw data is one file (`data/diabetes.csv.dvc`): `--ingest`, which adds a file per delivery to a
    folder of batches, is refused in one line naming the option and the data, and nothing is written."""
    before = snapshot(team.root)
    result = team.retrain(*INIT_ARGS, "--ingest")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: --ingest: ") and result.stderr.count("\n") == 1
    assert "data/diabetes.csv" in result.stderr
    assert snapshot(team.root) == before


def test_ingest_writes_the_scheduled_ingest_caller_beside_a_folder_of_batches(project: Project) -> None:
    """The digits project keeps one .dvc file per batch in data/raw: `--ingest` writes the ingest caller (its own,
    from the fork, is the team's and kept until --force), its role's policies and the checklist step."""
    args = ("init", "--metric", "accuracy", "--max-regression", "0.05", "--ingest")
    kept = project.retrain(*args)
    assert kept.returncode == 0, kept.stderr
    assert "init: .github/workflows/ingest.yml: kept" in kept.stdout
    forced = project.retrain(*args, "--force")
    assert forced.returncode == 0, forced.stderr
    (job,) = yaml.safe_load((project.root / ".github/workflows/ingest.yml").read_text())["jobs"].values()
    assert job["uses"].split("@")[0].endswith("/.github/workflows/ingestion.yml")
    assert (project.root / "docs/retrain/aws/ingest-role-permissions.json").is_file()
    assert "INGEST_AWS_ROLE_ARN" in forced.stdout  # the checklist, printed last
