"""The Makefile's self-documentation and the demo a newcomer runs, from any clone on any branch."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from scripts.demo import make_sandbox
from tests.helpers import REPO_ROOT, project_files, sh

# A team's clone (`develop` checked out, `main` beside it, a release tagged) and a fresh fork with `main` only.
CLONES = ("develop-current", "main-only")


def test_make_help_lists_every_target_with_a_description() -> None:
    out = sh(["make", "--no-print-directory", "help"], REPO_ROOT).stdout
    for target in ("install", "retrain", "test", "lint", "bench", "bench-quick", "demo", "clean"):
        assert f"make {target} " in out, target
    targets = [line.split(":")[0] for line in (REPO_ROOT / "Makefile").read_text().splitlines() if ": " in line]
    documented = [line.split()[1] for line in out.splitlines()]
    assert set(documented) <= set(targets)


def project_clone(where: Path, kind: str) -> Path:
    """A clone holding the project as in this working tree, with the branches and tags `kind` names."""
    root = where / "clone"
    for name in project_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, root / name)
    sh(["git", "init", "--quiet", "--initial-branch", "main"], root)
    sh(["git", "add", "--all"], root)
    sh(["git", "commit", "--quiet", "-m", "project as in the working tree"], root)
    if kind == "develop-current":
        sh(["git", "switch", "--quiet", "-c", "develop"], root)
        sh(["git", "tag", "--annotate", "model@v1.0.0", "-m", "a release of the team's own"], root)
    return root


@pytest.mark.parametrize("kind", CLONES)
def test_demo_sandbox_is_a_fresh_develop_holding_the_clones_head(kind: str, tmp_path: Path) -> None:
    """Cheap proof of branch independence: the sandbox has none of the clone's branches, tags or history."""
    clone = project_clone(tmp_path, kind)
    work = make_sandbox(clone, tmp_path / "sandbox")

    def git(*args: str, cwd: Path = work) -> str:
        return sh(["git", *args], cwd).stdout.strip()

    assert git("branch", "--show-current") == "develop"
    assert git("for-each-ref", "--format=%(refname)").splitlines() == [
        "refs/heads/develop",
        "refs/remotes/origin/develop",
    ]
    assert git("rev-list", "--count", "HEAD") == "1"
    assert git("rev-parse", "HEAD^{tree}") == git("rev-parse", "HEAD^{tree}", cwd=clone)
    assert git("status", "--porcelain") == ""
    assert git("ls-remote", "--refs", "origin").split() == [git("rev-parse", "HEAD"), "refs/heads/develop"]


@pytest.mark.slow
def test_demo_tells_the_whole_story(tmp_path: Path) -> None:
    """`make demo`: v1, v1.1 on new data, restores, deliveries ingested, reviewed, merged and released as v1.2 (a
    bad one quarantined with its reason), a gated bad delivery, the releases table. Told once, from a team's clone:
    the test above proves the sandbox is the same fresh `develop` from either kind of clone."""
    clone = project_clone(tmp_path, "develop-current")
    result = sh([sys.executable, str(clone / "scripts/demo.py")], clone, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert "released model@v1.0.0" in out and "released model@v1.1.0" in out
    assert "-> ingest: 1 ingested, 1 rejected" in out
    quarantined = next(line for line in out.splitlines() if line.startswith("  quarantined in drops/rejected/"))
    assert "-corrupt.csv.reason.yaml says: " in quarantined
    assert "-corrupt.csv: column 'label': unknown label (known: 0..9): got 12 at line 5." in quarantined
    assert "On merge this model would be released" in out, "the ingest branch's pull-request report"
    merged = out.index("$ git merge --quiet --no-ff -m Merge ingest/landing")
    assert out.index("-> released model@v1.2.0") > merged, "released after the ingest merge"
    assert "gated: no tag" in out
    table = out[out.rindex("\ntag ") :].splitlines()[1:]
    assert table[0].split()[0] == "tag" and table[0].split()[1] == "date", table[0]
    tags = [line.split()[0] for line in table[1:4]]
    assert tags == ["model@v1.2.0", "model@v1.1.0", "model@v1.0.0"], table
