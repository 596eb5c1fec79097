"""Released projects built once per test session and copied for each test: building a release costs a training
run, copying one costs milliseconds.

The template is a clone of the seed origin released as model@v1.0.0 with `--push` on the local DVC remote. Its
DVC run-cache (local and pushed) also holds the pipeline runs of the deliveries and params the fault tests make
next, so that a re-run after a fault is restored from the run-cache instead of training again: `good` (300 rows),
`other` (300 rows, delivered on another clone), and both together. Under xdist the workers share one template
(built by the first that needs it, under a file lock: tests.helpers.built_once).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import Project, built_once, clone_project


@dataclass(frozen=True)
class Batch:
    name: str
    content: bytes


@dataclass(frozen=True)
class Template:
    project: Project
    good: Batch  # a valid delivery whose pipeline run is in the run-cache
    other: Batch  # another clone's delivery, also in the run-cache, alone and with `good`


def build_released(seed_origin: Path, where: Path) -> None:
    project = clone_project(seed_origin, where)
    first = project.retrain("run", "--push")
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    raw = project.root / "data" / "raw"
    made = {}
    for seed in (3, 22):
        path = project.add_batch(rows=300, seed=seed, commit=False)
        made[path.name] = path.read_bytes()
        path.unlink()
        (raw / f"{path.name}.dvc").unlink()
    good, other = (Batch(name, content) for name, content in made.items())
    for files in ({good.name: good.content}, {other.name: other.content}, made):
        for name, content in files.items():
            (raw / name).write_bytes(content)
        project.dvc_add(*(f"data/raw/{name}" for name in files))
        project.dvc("repro")  # fills the run-cache
        project.git("reset", "--quiet", "--hard", "HEAD")
        for name in files:
            (raw / name).unlink()
            (raw / f"{name}.dvc").unlink(missing_ok=True)  # core.autostage staged it: the reset removed it
    project.dvc("checkout", "--force")
    project.dvc("push", "--run-cache")
    assert project.git("status", "--porcelain", "--untracked-files=no") == ""
    (where / "good.csv").write_bytes(good.content)
    (where / "other.csv").write_bytes(other.content)
    save_project(project, where, good=good.name, other=other.name)


def save_project(project: Project, where: Path, **extra: str) -> None:
    """Write `template.json` (last: tests.helpers.built_once takes it as the mark of a finished build)."""
    saved = {"root": str(project.root), "origin": str(project.origin), "storage": str(project.storage)}
    (where / "template.json").write_text(json.dumps({**saved, "env": project.env, **extra}))


def load_project(where: Path) -> Project:
    saved = json.loads((where / "template.json").read_text())
    return Project(Path(saved["root"]), Path(saved["origin"]), Path(saved["storage"]), saved["env"])


def load_released(where: Path) -> Template:
    saved = json.loads((where / "template.json").read_text())
    return Template(
        load_project(where),
        Batch(saved["good"], (where / "good.csv").read_bytes()),
        Batch(saved["other"], (where / "other.csv").read_bytes()),
    )


def _point_at(project: Project, origin: Path, storage: Path) -> None:
    """Re-aim a copied work tree at its own origin and local DVC remote (the copy still names the template's)."""
    project.git("remote", "set-url", "origin", str(origin))
    config = project.root / ".dvc" / "config.local"
    lines = [line for line in config.read_text().splitlines() if "url =" not in line or "endpointurl" in line]
    text = "\n".join(lines) + "\n"
    marker = "['remote \"local\"']"
    if marker not in text:
        text += marker + "\n"
    config.write_text(text.replace(marker, f"{marker}\n    url = {storage}", 1))


def copy_project(template: Project, where: Path) -> Project:
    """A released project of one's own: the template's origin, work tree (with its DVC cache) and storage."""
    where.mkdir(parents=True, exist_ok=True)
    origin, root, storage = where / "origin.git", where / "work", where / "dvc-storage"
    shutil.copytree(template.origin, origin, symlinks=True)
    shutil.copytree(template.storage, storage, symlinks=True)
    shutil.copytree(template.root, root, symlinks=True)
    project = Project(root=root, origin=origin, storage=storage, env=dict(template.env))
    _point_at(project, origin, storage)
    return project


def copy_clone(template: Project, project: Project, where: Path) -> Project:
    """Another clone of `project`'s origin and remote, made from the template's work tree (cache included)."""
    root = where / "work2"
    shutil.copytree(template.root, root, symlinks=True)
    other = Project(root=root, origin=project.origin, storage=project.storage, env=dict(project.env))
    _point_at(other, project.origin, project.storage)
    other.git("fetch", "--quiet", "--tags", "origin")
    other.git("reset", "--quiet", "--hard", "origin/develop")
    return other


def derived(
    tmp_path_factory: pytest.TempPathFactory,
    worker_id: str,
    name: str,
    base: Project,
    build: Callable[[Project], None],
) -> Project:
    """A template made once per test session from a copy of `base` (another template) by `build`, which releases
    on it: what several tests copy instead of each releasing the same thing again."""

    def make(where: Path) -> None:
        project = copy_project(base, where)
        build(project)
        save_project(project, where)

    return load_project(built_once(tmp_path_factory, worker_id, name, make))
