"""The environment is part of the snapshot: hash-locked lock files, installed only with their hashes.

Runs offline when uv's cache holds what `make install` downloaded (it first tries `--offline`), else
reaches PyPI for one small wheel.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.locks import entries, stanzas

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.prefix) / "bin" / "uv"
RUNTIME = ROOT / "requirements.lock"
DEV = ROOT / "requirements-dev.lock"
BOOTSTRAP = ROOT / "requirements-uv.lock"
# A small pure-Python wheel that the runtime lock holds (python-dateutil needs it).
TINY = "six"


def requirement_lines(lock: Path) -> list[str]:
    return [line for line in lock.read_text().splitlines() if line and not line.startswith((" ", "#"))]


def run(*args, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("lock", [RUNTIME, DEV, BOOTSTRAP], ids=lambda p: p.name)
def test_every_package_is_pinned_exactly_with_hashes(lock):
    lines = requirement_lines(lock)
    assert lines, f"{lock.name} is empty"
    # Every requirement line is `name==version`, followed by its hashes (PIN needs at least one).
    assert len(lines) == sum(len(forks) for forks in entries(lock).values()), [
        line for line in lines if "==" not in line or not line.endswith("\\")
    ]


def test_the_dev_lock_holds_the_runtime_lock_exactly():
    runtime, dev = entries(RUNTIME), entries(DEV)
    assert {"dvc", "pandas", "scikit-learn", "setuptools"} <= set(runtime)
    assert {"pytest", "ruff", "zizmor", "pip"} <= set(dev) and "pytest" not in runtime
    for name, forks in runtime.items():
        assert [version for version, _ in dev.get(name, [])] == [version for version, _ in forks], name


def test_make_installs_only_through_the_hashes():
    """What make would run, from make's own dry run: every install requires the locks' hashes."""
    uv_step = run("make", "--no-print-directory", "-n", "-W", "requirements-uv.lock", ".venv/.uv-installed").stdout
    assert re.search(r"-m pip .*install .*--require-hashes .*-r requirements-uv\.lock", uv_step), uv_step
    for target, lock in (("install", "requirements-dev.lock"), ("install-runtime", "requirements.lock")):
        out = run("make", "--no-print-directory", "-n", "-W", lock, target).stdout
        assert re.search(rf"uv pip sync --require-hashes .* {re.escape(lock)}$", out, re.M), out
        # What a source-only package is built with: the runtime lock's setuptools, hash-checked.
        assert "--build-constraints requirements.lock --require-build-hashes" in out, out
        # The project itself: its declared dependencies already synced from the lock, built by the locked uv_build.
        assert re.search(r"uv pip install .*--no-deps --no-build-isolation .*-e \.$", out, re.M), out


def sync(lock: Path, venv: Path) -> subprocess.CompletedProcess:
    """`uv pip sync --require-hashes` as make runs it: from uv's cache when it can, else from PyPI."""
    command = [UV, "pip", "sync", "--require-hashes", "--python", venv / "bin" / "python", lock]
    result = run(*command, "--offline")
    if result.returncode != 0 and "Hash mismatch" not in result.stderr:
        result = run(*command)
    return result


def test_a_tampered_hash_in_a_copy_of_the_lock_fails_the_install(tmp_path):
    (version, hashes), *_ = entries(RUNTIME)[TINY]
    stanza = stanzas(RUNTIME)[TINY]
    good, bad = tmp_path / "good.lock", tmp_path / "tampered.lock"
    good.write_text(stanza)
    # As if the file on the index had been replaced: no hash in the lock matches it any more.
    bad.write_text(re.sub(r"sha256:([0-9a-f])", lambda m: "sha256:" + "01"[m.group(1) == "0"], stanza))
    assert bad.read_text() != stanza and len(hashes) >= 1

    venv = tmp_path / "venv"
    assert run(UV, "venv", "--quiet", venv).returncode == 0

    tampered = sync(bad, venv)
    assert tampered.returncode != 0
    assert f"Hash mismatch for `{TINY}=={version}`" in tampered.stderr, tampered.stderr
    assert not list(venv.glob(f"lib/python*/site-packages/{TINY}.py")), "nothing was installed"

    fine = sync(good, venv)
    assert fine.returncode == 0, fine.stderr
    assert list(venv.glob(f"lib/python*/site-packages/{TINY}.py"))


@pytest.fixture
def lock_copy(tmp_path) -> Path:
    """requirements*.txt, requirements*.lock and scripts/lock.sh, as in the repository."""
    for path in ROOT.glob("requirements*"):
        shutil.copy2(path, tmp_path / path.name)
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "lock.sh", tmp_path / "scripts" / "lock.sh")
    return tmp_path


def check(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "scripts/lock.sh", "--check"],
        cwd=where,
        env={**os.environ, "UV": str(UV)},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_committed_locks_match_their_requirements(lock_copy):
    result = check(lock_copy)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_requirement_removed_without_make_lock_is_a_stale_lock(lock_copy):
    requirements = lock_copy / "requirements.txt"
    requirements.write_text(re.sub(r"^matplotlib==.*\n", "", requirements.read_text(), flags=re.M))

    result = check(lock_copy)

    assert result.returncode == 1
    assert "\n-matplotlib==" in result.stderr and "\n-kiwisolver==" in result.stderr, "the diff shows what moved"
    assert result.stderr.splitlines()[-1] == (
        "stale lock: requirements.lock does not match requirements.txt; run `make lock` and commit the result"
    )
    assert "Traceback" not in result.stderr
