"""`pip install` of this project gives a working `retrain`: pyproject.toml declares what the engine imports, the lock
satisfies every declared range, and the wheel holds the engine only (not the example's `pipeline`). One test builds
the wheel, installs it with only what it declares into a fresh virtual environment, and releases a DVC project that
is not ours with it. Offline: every file comes from uv's cache, which `make install` filled."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from importlib.metadata import distribution, packages_distributions
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.byop.conftest import make_byop_origin
from tests.helpers import VENV_BIN, Project, clone_project
from tests.helpers.adoption import INIT_ARGS, fetch_data, make_team_origin, snapshot
from tests.helpers.locks import entries, stanzas

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "src" / "retrain"
RUNTIME = ROOT / "requirements.lock"
UV = VENV_BIN / "uv"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
DECLARED = [Requirement(line) for line in PROJECT["dependencies"]]
# Distributions declared but never imported by name (none today: DVC's S3 remote comes as the `s3` extra of dvc).
NOT_IMPORTED: set[str] = set()


def imported_top_levels() -> set[str]:
    """Every top-level module any engine file imports, at module level or inside a function."""
    names: set[str] = set()
    for path in ENGINE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"retrain"}


def test_every_declared_range_admits_the_locked_version() -> None:
    locked = entries(RUNTIME)
    for requirement in DECLARED:
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is declared but requirements.lock does not hold {name}"
        for version, _ in locked[name]:
            assert requirement.specifier.contains(version), f"requirements.lock pins {name}=={version}: {requirement}"
        assert requirement.specifier, f"{requirement}: give a range, so a future major release is not taken blind"


def test_the_declared_distributions_are_what_the_engine_imports() -> None:
    owners = packages_distributions()
    imported = {canonicalize_name(owners[module][0]) for module in imported_top_levels() if module in owners}
    unowned = {module for module in imported_top_levels() if module not in owners}
    declared = {canonicalize_name(requirement.name) for requirement in DECLARED}
    assert not unowned, f"the engine imports modules no installed distribution provides: {sorted(unowned)}"
    assert imported - declared == set(), "imported but not declared in pyproject.toml's dependencies"
    assert declared - imported == NOT_IMPORTED, "declared but never imported: drop it or say why in NOT_IMPORTED"
    assert "s3" in next(r for r in DECLARED if r.name == "dvc").extras, "DVC's S3 remote is what CI releases to"


def key(requirement: Requirement) -> tuple[str, frozenset[str], str]:
    return canonicalize_name(requirement.name), frozenset(requirement.extras), str(requirement.specifier)


def closure(roots: list[Requirement]) -> set[str]:
    """The distributions `roots` need on this platform, read from the installed metadata (the lock's versions)."""
    seen: set[str] = set()
    pending = [(requirement, frozenset(requirement.extras)) for requirement in roots]
    while pending:
        requirement, extras = pending.pop()
        name = canonicalize_name(requirement.name)
        first_visit = name not in seen
        seen.add(name)
        for line in distribution(name).requires or []:
            needed = Requirement(line)
            marker_ok = needed.marker is None or any(
                needed.marker.evaluate({**default_environment(), "extra": extra}) for extra in ({""} | set(extras))
            )
            if marker_ok and (first_visit or extras):
                pending.append((needed, frozenset(needed.extras)))
    return seen


def run(*args: object, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    before = run("git", "status", "--porcelain", "--ignored").stdout
    built = run(UV, "build", "--wheel", "--offline", "--no-build-isolation", "--python", VENV_BIN / "python",
                "--out-dir", out, ".")  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert run("git", "status", "--porcelain", "--ignored").stdout == before, "the build wrote into the source tree"
    (path,) = out.glob("retrain-*.whl")
    return path


def test_the_wheel_holds_the_engine_and_declares_its_dependencies(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
        (metadata,) = (name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        fields = Parser().parsestr(archive.read(metadata).decode())
        entry_points = next(archive.read(n).decode() for n in archive.namelist() if n.endswith("entry_points.txt"))
    assert tops == {"retrain", f"retrain-{PROJECT['version']}.dist-info"}, tops  # no `pipeline`, no tests
    assert {key(Requirement(line)) for line in fields.get_all("Requires-Dist") or []} == {key(r) for r in DECLARED}
    assert re.search(r"^retrain = retrain\.cli:main$", entry_points, re.M), entry_points


@pytest.fixture(scope="module")
def fresh(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with only what the wheel declares, plus the team's own stage needs
    (scikit-learn and pandas for tests/byop), at the lock's versions: a missing declaration fails here as it would
    for an adopter (`No module named ...`). Its bin folder."""
    tmp_path = tmp_path_factory.mktemp("fresh")
    needed = closure([*DECLARED, Requirement("scikit-learn"), Requirement("pandas")])
    locked = {canonicalize_name(name): text for name, text in stanzas(RUNTIME).items()}
    assert set(locked) >= needed, "the lock misses part of the closure"
    subset = tmp_path / "needed.lock"
    subset.write_text("".join(text for name, text in locked.items() if name in needed))
    venv = tmp_path / "fresh"
    assert run(UV, "venv", "--quiet", venv).returncode == 0
    python = venv / "bin" / "python"
    synced = run(UV, "pip", "sync", "--offline", "--require-hashes", "--python", python, subset)
    assert synced.returncode == 0, synced.stderr
    # --no-index: every declared dependency must already be satisfied by what the closure installed.
    installed = run(UV, "pip", "install", "--offline", "--no-index", "--python", python, wheel)
    assert installed.returncode == 0, installed.stderr
    site = next(venv.glob("lib/python*/site-packages"))
    assert (site / "retrain").is_dir() and not (site / "pipeline").exists()
    assert (site / "sklearn").is_dir() and not (site / "pytest").exists()  # the team's need, not the dev tools
    return venv / "bin"


def on_path(project: Project, bin_dir: Path) -> None:
    """The team's environment: the fresh venv first on PATH (its python runs the stages, its dvc and retrain the
    rest)."""
    project.env["PATH"] = f"{bin_dir}:" + project.env["PATH"].replace(f"{VENV_BIN}:", "", 1)


@pytest.mark.slow
def test_a_fresh_install_of_the_wheel_releases_a_project_that_is_not_ours(fresh: Path, tmp_path: Path) -> None:
    project = clone_project(make_byop_origin(tmp_path / "seed"), tmp_path / "team")
    on_path(project, fresh)
    version = project.sh(str(fresh / "retrain"), "--version", check=False)
    assert version.stdout == f"retrain {PROJECT['version']}\n", version.stderr
    result = project.sh(str(fresh / "retrain"), "run", check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "released regressor@v1.0.0"
    assert list(project.tags()) == ["regressor@v1.0.0"]


@pytest.mark.slow
def test_pip_install_then_init_and_a_commit_then_run_releases(fresh: Path, tmp_path: Path) -> None:
    """Issue 24's "done when": a team's DVC repository that is not a fork, the wheel installed, `retrain init`, a
    commit, `retrain run` releases; a second `retrain init` changes nothing, byte for byte."""
    team = clone_project(make_team_origin(tmp_path / "seed"), tmp_path / "team")
    on_path(team, fresh)
    retrain = str(fresh / "retrain")
    fetch_data(team.root, fresh, team.env)
    init = team.sh(retrain, *INIT_ARGS, check=False)
    assert init.returncode == 0, init.stderr
    assert init.stdout.rstrip().endswith("then merge it.")  # it ends with the checklist
    assert (team.root / "docs/retrain/aws/release-role-trust.json").is_file()  # shipped in the wheel
    team.git("add", "--all")
    team.git("commit", "--quiet", "-m", "adopt the release engine (retrain init)")
    result = team.sh(retrain, "run", check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "released regressor@v1.0.0"
    before = snapshot(team.root)
    again = team.sh(retrain, *INIT_ARGS, check=False)
    assert again.returncode == 0 and snapshot(team.root) == before
    assert team.git("status", "--porcelain") == ""
