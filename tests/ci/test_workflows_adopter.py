"""The callers `retrain init` writes, run by act as GitHub would run them in a team's repository that is not a fork
(issue 24's "done when"): a pull request gets the report, a merge is released. The callers name this project's
reusable workflows by release (`dvc-exemplar/retrain/.github/workflows/report.yml@vX.Y.Z`), which act reads from
this working tree (`--local-repository`, as it reads the actions' stand-ins), and they install the engine of that
tag (`retrain @ git+https://github.com/...@vX.Y.Z`) from a bare repository in the sandbox's stand-in for GitHub,
offline, beside the team's own hash-locked requirements.txt. The second sandbox's moto and uv cache serve it, with
a forge and a fake API of its own around the team's origin."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from retrain.init.templates import Engine
from tests.byop import DATA
from tests.byop.conftest import make_byop_origin
from tests.ci.conftest import (
    ENGINE_REPOSITORY,
    MOTO_ENV,
    SYSTEM_PATH,
    TOKEN,
    VENV,
    CISandbox,
    run,
)
from tests.ci.fake_github import FakeGitHub
from tests.ci.forge import MERGE_BUTTON, Forge
from tests.ci.story import OIDC
from tests.dvcway import DATA as DVCWAY_DATA
from tests.dvcway.conftest import make_dvcway_origin
from tests.env.test_distribution import DECLARED, closure
from tests.helpers import REPO_ROOT
from tests.helpers.adoption import INIT_ARGS, fetch_data, make_team_origin
from tests.helpers.locks import stanzas

DEV_LOCK = REPO_ROOT / "requirements-dev.lock"  # the runtime lock, and dvclive that the third pipeline logs with
pytestmark = [pytest.mark.ci, pytest.mark.slow, pytest.mark.xdist_group("ci-second")]
TEAM = "acme/team"  # and the pipeline's name: acme/team-byop, acme/team-dvcway
BUCKET_URL = "s3://dvc-exemplar"


@dataclasses.dataclass(frozen=True)
class Pipeline:
    """A team's pipeline as it is before the engine: how its origin is made, how a member makes its raw data, what
    `retrain init` is given, and what its stages import beyond the engine."""

    name: str
    make_origin: Callable[[Path], Path]
    make_data: tuple[str, str]  # the script that makes the raw file, and the file
    init_args: tuple[str, ...]
    imports: tuple[str, ...]


BYOP = Pipeline("byop", make_byop_origin, ("stages/fetch.py", DATA), INIT_ARGS, ("scikit-learn", "pandas"))
# DVC's get-started layout with dvclive: metrics nested, inside the cached eval/, named as `dvc metrics show` does
DVCWAY = Pipeline(
    "dvcway",
    make_dvcway_origin,
    ("src/generate.py", DVCWAY_DATA),
    ("init", "--metric", "avg_prec.test", "--direction", "higher", "--max-regression", "0.02"),
    ("scikit-learn", "dvclive"),
)


def adopt(ci: CISandbox, pipeline: Pipeline) -> CISandbox:
    """The team's origin on the stand-in GitHub, after `retrain init` and its day-one steps (the two DVC remotes in
    the bucket), with the team's data in the release remote; a developer clone of it; the engine's tag there too."""
    root = ci.root / f"adopter-{pipeline.name}"
    root.mkdir()
    git_env = ci.git_env()
    # The engine's repository at the tag the callers pin: this working tree (as the sandbox's seed holds it).
    tag = Engine.installed().tag
    engine = ci.github / f"{ENGINE_REPOSITORY}.git"
    if not engine.exists():
        engine.parent.mkdir(parents=True, exist_ok=True)
        run(["git", "clone", "--quiet", "--bare", ci.root / "seed", engine], env=git_env)
        run(["git", f"--git-dir={engine}", "tag", tag, "develop"], env=git_env)

    # The team's repository: their pipeline, then `retrain init` and the day-one remotes, committed.
    seed = make_team_origin(root / pipeline.name, pipeline.make_origin)
    work = root / "work"
    run(["git", "clone", "--quiet", "--branch", "develop", seed, work], env=git_env)
    env = {**git_env, **MOTO_ENV, "PATH": f"{VENV / 'bin'}:{SYSTEM_PATH}", "AWS_ENDPOINT_URL": ci.endpoint}
    run([VENV / "bin" / "retrain", *pipeline.init_args], cwd=work, env=env)
    for name, prefix in (("s3remote", "team-releases"), ("s3remote-pr", "team-pull-requests")):
        run([VENV / "bin" / "dvc", "remote", "add", "--force", name, f"{BUCKET_URL}/{prefix}"], cwd=work, env=env)
    # The team's environment, hash-locked: what the engine declares and what their stages import.
    needed = closure([*DECLARED, *map(Requirement, pipeline.imports)])
    locked = {canonicalize_name(name): text for name, text in stanzas(DEV_LOCK).items()}
    (work / "requirements.txt").write_text("".join(text for name, text in locked.items() if name in needed))
    run(["git", "add", "--all"], cwd=work, env=git_env)
    run(["git", "commit", "--quiet", "-m", "Adopt the release engine (retrain init)"], cwd=work, env=git_env)
    origin = ci.github / f"{TEAM}-{pipeline.name}.git"
    run(["git", "clone", "--quiet", "--bare", work, origin], env=git_env)
    run(["git", "config", "uploadpack.allowReachableSHA1InWant", "true"], cwd=origin, env=git_env)

    forge = Forge(root / "forge", origin, f"{TEAM}-{pipeline.name}")
    forge.install()
    forge.register_token(TOKEN, "github-actions[bot]", "github_token", {"contents": "write", "pull_requests": "write"})
    api = FakeGitHub(forge.state_file).start()
    dev = root / "dev"
    run(["git", "clone", "--quiet", f"https://github.com/{TEAM}-{pipeline.name}.git", dev], env=git_env)
    fetch_data(dev, VENV / "bin", env, pipeline.make_data)
    run([VENV / "bin" / "dvc", "push", "--quiet", "-r", "s3remote"], cwd=dev, env=env)
    sandbox = dataclasses.replace(ci, origin=origin, dev=dev, forge=forge, api=api, state={})
    sandbox.state["pushes_seen"] = len(forge.pushes())
    return sandbox


@pytest.fixture(scope="module")
def team(second_ci: CISandbox) -> Iterator[CISandbox]:
    sandbox = adopt(second_ci, BYOP)
    yield sandbox
    sandbox.api.stop()


@pytest.fixture(scope="module")
def dvcway_team(second_ci: CISandbox) -> Iterator[CISandbox]:
    sandbox = adopt(second_ci, DVCWAY)
    yield sandbox
    sandbox.api.stop()


def repository(name: str = "team-byop") -> dict:
    return {"full_name": f"acme/{name}", "name": name, "owner": {"login": "acme"}, "fork": False}


# uv clones the engine's tag through git: https://github.com/ is the sandbox's folder for the runner's git too.
def runner_git(ci: CISandbox) -> dict:
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{ci.github}/.insteadOf",
        "GIT_CONFIG_VALUE_0": "https://github.com/",
    }


def report_a_param_change(team: CISandbox, name: str, branch: str, change: tuple[str, str, str], message: str) -> str:
    """A developer pushes `branch` with one params.yaml change (section, key, value) and opens pull request 1; the
    generated pr.yml reports it under act. Its job summary."""
    team.start_branch(branch)
    team.set_param(*change)
    head = team.commit_all(message)
    team.push(branch)
    team.forge.open_pull(1, branch, head)
    assert team.forge.runs_for_pull_request(1) == ["pr.yml"]
    payload = {
        "action": "opened",
        "number": 1,
        "pull_request": {
            "number": 1, "state": "open", "merged": False,
            "head": {"sha": head, "ref": branch, "repo": repository(name)},
            "base": {"sha": team.origin_head(), "ref": "develop", "repo": repository(name)},
        },
        "repository": repository(name),
    }  # fmt: skip
    result = team.act("pull_request", "pr.yml", payload, variables=OIDC, extra_env=runner_git(team))
    assert result.returncode == 0, result.explain()
    assert result.job_results() == {"report": "success"}
    return result.summary("report")


def test_the_generated_callers_report_a_pull_request_then_release_its_merge(team: CISandbox) -> None:
    (job,) = yaml.safe_load((team.dev / ".github/workflows/pr.yml").read_text())["jobs"].values()
    assert job["uses"].startswith(f"{ENGINE_REPOSITORY}/.github/workflows/report.yml@v"), job

    # A pull request: a param change, reported.
    summary = report_a_param_change(team, "team-byop", "alpha", ("fit", "alpha", "0.5"), "Weaker regularisation")
    assert "fit.alpha" in summary, "the report diffs the team's own params"

    # The merge: released by the generated retrain.yml, through the reusable release workflow.
    before, merge = team.merge_pr(1, "alpha")
    assert [w for w, _ in team.runs_for(team.new_pushes())] == ["retrain.yml"]
    push = {
        "ref": "refs/heads/develop", "before": before, "after": merge,
        "head_commit": {"id": merge, "message": team.commit_message(merge)}, "repository": repository(),
    }  # fmt: skip
    result = team.act("push", "retrain.yml", push, variables=OIDC, extra_env=runner_git(team))
    assert result.returncode == 0, result.explain()
    assert result.job_results().get("retrain") == "success", result.job_results()
    tags = run(["git", f"--git-dir={team.origin}", "tag", "--list", "regressor@v*"], env=team.git_env()).stdout
    assert tags.split() == ["regressor@v1.0.0"], tags
    assert MERGE_BUTTON in {p.identity for p in team.forge.pushes()}


def test_a_pipeline_in_dvcs_layout_gets_its_pull_request_report_through_the_callers(dvcway_team: CISandbox) -> None:
    """The third pipeline (DVC's get-started layout, dvclive's nested metrics in the cached eval/), adopted by
    `retrain init` with no edit of its dvc.yaml or code: a pull request gets the report, its metric named as
    `dvc metrics show` names it."""
    summary = report_a_param_change(dvcway_team, "team-dvcway", "trees", ("train", "n_est", "40"), "More trees")
    assert "train.n_est" in summary, "the report diffs the team's own params"
    assert "avg_prec.test" in summary, "the metric, named as dvc metrics show names it"
