"""Issue 23, stop 7: the environment is always in a release's lineage, from the project's lock file whether or not a
stage depends on it, else from the installed distributions. No git, no DVC."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from retrain import environment, project
from tests.byop import DATA, TEMPLATE

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
INSTALLED = st.dictionaries(NAMES, st.text(alphabet="0123456789.", min_size=1, max_size=8), min_size=1, max_size=8)


def byop(tmp_path: Path) -> Path:
    root = tmp_path / "byop"
    shutil.copytree(TEMPLATE, root)
    (root / f"{DATA}.dvc").write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: diabetes.csv\n")
    return root


def test_a_lock_file_no_stage_depends_on_is_recorded_by_its_md5(tmp_path: Path) -> None:
    root = byop(tmp_path)
    (root / "requirements.lock").write_text("numpy==2.0.0 --hash=sha256:00\n")
    found = project.load(root)
    assert found.env_lock == "requirements.lock"
    md5 = hashlib.md5(b"numpy==2.0.0 --hash=sha256:00\n", usedforsecurity=False).hexdigest()  # dvc.lock records it so
    assert environment.recorded(root, found.env_lock) == f"requirements.lock {md5}"


def test_without_a_lock_file_the_installed_distributions_are_recorded(tmp_path: Path) -> None:
    root = byop(tmp_path)
    found = project.load(root)
    assert found.env_lock is None
    recorded = environment.recorded(root, found.env_lock)
    assert recorded == f"installed distributions {environment.distributions_hash(environment.installed())}"
    assert "dvc" in environment.installed()  # this process's own environment


@given(INSTALLED)
def test_the_distributions_hash_ignores_order_and_sees_any_version(installed: dict) -> None:
    shuffled = dict(reversed(list(installed.items())))
    assert environment.distributions_hash(shuffled) == environment.distributions_hash(installed)
    name = next(iter(installed))
    bumped = {**installed, name: installed[name] + ".1"}
    assert environment.distributions_hash(bumped) != environment.distributions_hash(installed)
