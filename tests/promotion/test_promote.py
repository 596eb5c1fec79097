"""`retrain promote`, `rollback` and `which` on real git (a bare origin), GTO and DVC: the stage tags land on origin
atomically, consumers that know nothing of this tool (`gto show`, `dvc artifacts get`) agree with `retrain which`,
every refusal is one line and exit 2 with nothing changed, and two promotions at once end in one registry."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
import yaml

from tests.helpers import VENV_BIN, Project, sh

pytestmark = pytest.mark.slow

V100, V110, V111 = "model@v1.0.0", "model@v1.1.0", "model@v1.1.1"


def stage_tags(git_dir: Path, env: dict) -> dict[str, str]:
    out = sh(["git", "for-each-ref", "--format=%(refname:short) %(*objectname)", "refs/tags/model#*"], git_dir, env)
    return dict(line.split() for line in out.stdout.splitlines() if line.strip())


def model_md5(project: Project, release: str) -> str:
    lock = yaml.safe_load(project.git("show", f"{release}:dvc.lock"))
    return next(out["md5"] for out in lock["stages"]["train"]["outs"] if out["path"] == "models/model.joblib")


def ok(project: Project, *args: str) -> str:
    result = project.retrain(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def refused(project: Project, exit_code: int, *args: str) -> str:
    """A refusal: the exit code, and one `error:` line on stderr, no traceback."""
    result = project.retrain(*args)
    assert result.returncode == exit_code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[-1]


def consumers(project: Project, where: Path) -> dict[str, str]:
    """What a consumer with only git, GTO and DVC reads from origin for prod: the release tag `gto show` names in a
    fresh clone (ordering assignments by time, GTO's default, or by version: one version holds the stage, so both
    agree), and the md5 of the model `dvc artifacts get` downloads from origin."""
    clone = where / f"consumer-{len(list(where.glob('consumer-*')))}"
    sh(["git", "clone", "--quiet", str(project.origin), str(clone)], where, project.env)
    shown = sh([VENV_BIN / "gto", "show", "model#prod", "--ref"], clone, project.env).stdout.strip()
    by_version = sh([VENV_BIN / "gto", "show", "model#prod", "--ref", "--sort", "semver"], clone, project.env)
    assert by_version.stdout.strip() == shown
    target = clone / "served.joblib"
    remote = ["--remote", "local", "--remote-config", f"url={project.storage}"]
    sh(
        [VENV_BIN / "dvc", "artifacts", "get", project.origin, "model", "--stage", "prod", "-o", target, *remote],
        clone,
        project.env,
    )
    return {"gto": shown, "dvc": hashlib.md5(target.read_bytes(), usedforsecurity=False).hexdigest()}


def assert_serves(project: Project, release: str, where: Path) -> None:
    version = release.split("@", 1)[1]
    assert ok(project, "which", "--stage", "prod") == version
    assert consumers(project, where) == {"gto": release, "dvc": model_md5(project, release)}
    assert stage_tags(project.root, project.env) == stage_tags(project.origin, project.env), "local == origin"


def test_promote_then_roll_back_twice_and_every_consumer_agrees(released: Project, tmp_path: Path) -> None:
    assert len({model_md5(released, release) for release in (V100, V110, V111)}) == 3, "three different models"
    released.env["GITHUB_ACTOR"] = "dee"

    said = ok(released, "promote", "v1.0.0", "--stage", "prod", "--note", "first model in production")
    assert said == "promoted model@v1.0.0 to prod (tag model#prod#1, pushed to origin); before: nothing"
    message = released.origin_git("for-each-ref", "--format=%(contents)", "refs/tags/model#prod#1")
    assert message.startswith("Promote model@v1.0.0 to prod\n") and "by: dee" in message
    assert "first model in production" in message
    assert released.origin_git("cat-file", "-t", "refs/tags/model#prod#1") == "tag", "annotated"
    assert_serves(released, V100, tmp_path)

    assert "before: model@v1.0.0" in ok(released, "promote", "model@v1.1.0", "--stage", "prod")
    assert "before: model@v1.1.0" in ok(released, "promote", "1.1.1", "--stage", "prod")
    assert_serves(released, V111, tmp_path)
    assert "already serves prod" in ok(released, "promote", "v1.1.1", "--stage", "prod")

    said = ok(released, "rollback", "--stage", "prod", "--note", "v1.1.1 misreads sevens")
    assert said.startswith("rolled back prod from model@v1.1.1 to model@v1.1.0, the version that served prod")
    assert_serves(released, V110, tmp_path)
    assert ok(released, "rollback", "--stage", "prod").startswith("rolled back prod from model@v1.1.0 to model@v1.0.0")
    assert_serves(released, V100, tmp_path)

    before = stage_tags(released.origin, released.env)
    assert "no earlier version served it before model@v1.0.0" in refused(released, 2, "rollback", "--stage", "prod")
    assert stage_tags(released.origin, released.env) == before
    assert_serves(released, V100, tmp_path)

    which = yaml.safe_load(ok(released, "which", "--stage", "prod", "--json"))
    assert which["release"] == V100 and which["tag"] == "model#prod#9" and which["since"].endswith("+00:00")


def test_unknown_version_stage_or_deregistered_version_is_refused_and_nothing_changes(released: Project) -> None:
    before = (released.tags(), released.origin_tags())

    assert "unknown version `v9.9.9`" in refused(released, 2, "promote", "v9.9.9", "--stage", "prod")
    line = refused(released, 2, "promote", "v1.1.0", "--stage", "production")
    assert "unknown stage `production`: .gto allows dev, staging, prod" in line
    assert "nothing to roll back: no version holds staging" in refused(released, 2, "rollback", "--stage", "staging")
    assert "no version holds dev yet" in refused(released, 1, "which", "--stage", "dev")
    assert (released.tags(), released.origin_tags()) == before

    sh([VENV_BIN / "gto", "deprecate", "model", "v1.1.0", "--push"], released.root, released.env)
    line = refused(released, 2, "promote", "v1.1.0", "--stage", "prod")
    assert "model@v1.1.0 was deregistered" in line


def test_rollback_skips_a_version_deregistered_meanwhile(released: Project) -> None:
    for version in ("v1.0.0", "v1.1.0", "v1.1.1"):
        ok(released, "promote", version, "--stage", "staging")
    sh([VENV_BIN / "gto", "deprecate", "model", "v1.1.0", "--push"], released.root, released.env)

    assert "from model@v1.1.1 to model@v1.0.0" in ok(released, "rollback", "--stage", "staging")
    assert ok(released, "which", "--stage", "staging") == "v1.0.0"


def _delete_from_storage(project: Project, md5: str) -> None:
    (project.storage / "files" / "md5" / md5[:2] / md5[2:]).unlink()


def test_a_version_whose_objects_are_not_all_in_the_remote_is_refused(released: Project) -> None:
    _delete_from_storage(released, model_md5(released, V110))
    before = (released.tags(), released.origin_tags())

    line = refused(released, 2, "promote", "v1.1.0", "--stage", "prod")
    assert "cannot promote model@v1.1.0 to prod: 1 of its object(s) are missing from DVC remote `local`" in line
    assert f"models/model.joblib ({model_md5(released, V110)})" in line and "Nothing changed" in line
    assert (released.tags(), released.origin_tags()) == before

    ok(released, "promote", "v1.0.0", "--stage", "prod")
    ok(released, "promote", "v1.1.1", "--stage", "prod")
    _delete_from_storage(released, model_md5(released, V100))
    line = refused(released, 2, "rollback", "--stage", "prod")
    assert "cannot roll back prod to model@v1.0.0: 1 of its object(s) are missing" in line
    assert ok(released, "which", "--stage", "prod") == "v1.1.1"


def _hook(git_dir: Path, name: str, body: str) -> None:
    hook = git_dir / "hooks" / name
    hook.write_text("#!/bin/sh\n" + body + "\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_two_promotions_at_once_both_finish_and_the_registry_is_consistent(
    released: Project, colleague: Project, tmp_path: Path
) -> None:
    """The colleague's promotion is computed from origin as it was; just before it pushes (its pre-push hook), the
    other promotion lands with the same GTO tag names. The colleague's push is refused, it reads origin again and
    makes its promotion on top: the last promotion wins, and one version holds prod."""
    other = f"cd {released.root} && env -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE {VENV_BIN / 'retrain'}"
    _hook(
        colleague.root / ".git",
        "pre-push",
        f'rm "$0"\n{other} promote v1.1.0 --stage prod > {tmp_path}/other.out 2>&1 || exit 1',
    )

    result = colleague.retrain("promote", "v1.1.1", "--stage", "prod")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "promoted model@v1.1.0 to prod" in (tmp_path / "other.out").read_text()
    assert "another promotion got there first" in result.stderr
    assert result.stdout.strip().endswith("before: model@v1.1.0")
    released.git("fetch", "--quiet", "--tags", "origin")
    for clone in (released, colleague):
        assert_serves(clone, V111, tmp_path)
    registry = yaml.safe_load(sh([VENV_BIN / "gto", "show", "--json"], released.root, released.env).stdout)
    assert registry["model"]["stage"]["prod"] == "v1.1.1"
    assert sorted(stage_tags(released.origin, released.env)) == ["model#prod!#2", "model#prod#1", "model#prod#3"]


def test_a_push_that_fails_leaves_no_stage_tag_anywhere(released: Project) -> None:
    before = (released.tags(), released.origin_tags())
    _hook(released.root / ".git", "pre-push", "echo 'network down' >&2; exit 1")
    assert "were removed here" in refused(released, 1, "promote", "v1.1.0", "--stage", "prod")
    assert (released.tags(), released.origin_tags()) == before

    (released.root / ".git" / "hooks" / "pre-push").unlink()
    _hook(released.origin, "pre-receive", "echo 'tags are frozen' >&2; exit 1")
    line = refused(released, 1, "promote", "v1.1.0", "--stage", "prod")
    assert "gave up after 3 attempts" in line and "tags are frozen" in line
    assert (released.tags(), released.origin_tags()) == before


def test_a_stage_tag_left_by_an_interrupted_promotion_is_replaced_by_origins_registry(released: Project) -> None:
    released.git("tag", "-a", "model#prod#1", "-m", "never pushed", "model@v1.1.1")
    assert "promoted model@v1.0.0 to prod (tag model#prod#1" in ok(released, "promote", "v1.0.0", "--stage", "prod")
    assert released.origin_git("rev-parse", "model#prod#1^{commit}") == released.tags()[V100]


def test_releases_show_the_stages_each_version_holds_and_since_when(released: Project) -> None:
    ok(released, "promote", "v1.1.0", "--stage", "staging")
    ok(released, "promote", "v1.0.0", "--stage", "prod")
    ok(released, "promote", "v1.1.1", "--stage", "staging")

    listed = {item["tag"]: item["stages"] for item in yaml.safe_load(ok(released, "releases", "--json"))["releases"]}
    assert [held["stage"] for held in listed[V100]] == ["prod"] and listed[V110] == []
    assert listed[V111][0]["stage"] == "staging" and listed[V111][0]["tag"] == "model#staging#4"
    table = ok(released, "releases").splitlines()
    assert table[0].endswith("stages")
    assert f"staging since {listed[V111][0]['since']}" in next(line for line in table if line.startswith(V111))
    assert next(line for line in table if line.startswith(V110)).endswith(released.tags()[V110][:8])


def test_two_rollbacks_at_once_roll_back_once(released: Project, colleague: Project, tmp_path: Path) -> None:
    """Both saw v1.1.1 in prod and want the release before it; the first lands, the second finds it done."""
    ok(released, "promote", "v1.0.0", "--stage", "prod")
    ok(released, "promote", "v1.1.1", "--stage", "prod")
    other = f"cd {released.root} && env -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE {VENV_BIN / 'retrain'}"
    _hook(colleague.root / ".git", "pre-push", f'rm "$0"\n{other} rollback --stage prod > /dev/null 2>&1 || exit 1')

    said = ok(colleague, "rollback", "--stage", "prod")

    assert said.startswith("prod was rolled back to model@v1.0.0 meanwhile (tag model#prod#5): nothing to do"), said
    for clone in (released, colleague):
        clone.git("fetch", "--quiet", "--tags", "origin")
        assert_serves(clone, V100, tmp_path)
    assert len(stage_tags(released.origin, released.env)) == 5, "one rollback: an unassign and an assign"
