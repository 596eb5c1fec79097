"""Raw data, where `release.raw_data` says it lives (retrain.project resolves it), in one of two shapes:

- a folder of append-only batches, each tracked by its own `<batch>.dvc` file beside it. One .dvc file per batch,
  and a committed `<folder>/.gitignore` that already ignores every batch, so adding a batch edits no shared file:
  two branches that each add one merge without conflict under any merge (GitHub's merge button and merge queue
  ignore merge drivers);
- one file (or folder) tracked by a single `<path>.dvc` beside it.

Either way the engine sees `path -> md5` of what git names, in the work tree or at a revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from retrain import dvcfiles, gitops
from retrain.errors import BadInputError

DVC_SUFFIX = ".dvc"
GITIGNORE_NAME = ".gitignore"
GITIGNORE_TEXT = """\
# Raw batches live in DVC, each tracked by its own `<batch>.csv.dvc` beside it. This pattern already ignores
# every batch, so `dvc add` of a new batch edits no shared file: two branches that each add a batch never
# conflict, whatever merges them (GitHub's merge button ignores merge drivers).
/*.csv
"""


@dataclass(frozen=True)
class Raw:
    """Where raw data lives: `path`, a folder of batches, or (`single`) one path tracked by `<path>.dvc`."""

    path: str
    single: bool = False

    @staticmethod
    def at_path(root: Path, path: str) -> Raw:
        """The shape the work tree shows: a folder without a `<path>.dvc` beside it holds batches; anything else is
        one tracked path."""
        path = path.rstrip("/")
        return Raw(path, single=(root / f"{path}{DVC_SUFFIX}").is_file() or not (root / path).is_dir())

    @property
    def folder(self) -> str:
        """The batch folder, for what only batches can do (ingest, migrate-data)."""
        if self.single:
            raise BadInputError(
                f"{self.path} is one file tracked by {self.path}{DVC_SUFFIX}, not a folder of batches: this command "
                "needs release.raw_data to be a folder with one .dvc file per batch (docs/adopt.md)."
            )
        return self.path

    def is_batch(self, path: str) -> bool:
        """A raw file (as a label or a path relative to the root): the tracked path, or a batch in the folder."""
        if self.single:
            return path == self.path
        parent, _, name = path.rpartition("/")
        return parent == self.path and bool(name) and not name.endswith(DVC_SUFFIX)

    def dvc_files(self, root: Path) -> list[str]:
        """The raw data's .dvc files in the work tree, relative to the root, sorted."""
        if self.single:
            return [f"{self.path}{DVC_SUFFIX}"] if (root / f"{self.path}{DVC_SUFFIX}").is_file() else []
        folder = root / self.path
        found = folder.glob(f"*{DVC_SUFFIX}") if folder.is_dir() else []
        return sorted(str(path.relative_to(root)) for path in found)

    def untracked(self, root: Path) -> list[str]:
        """Raw files a release would train on but not store: a file with no .dvc file, or a .dvc file git does not
        track yet."""
        if self.single:
            dvc_file = f"{self.path}{DVC_SUFFIX}"
            bare = [] if (root / dvc_file).is_file() or not (root / self.path).exists() else [self.path]
            return sorted(bare + gitops.untracked_files(root, dvc_file))
        folder = root / self.path
        files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")] if folder.is_dir() else []
        no_dvc_file = [p for p in files if p.suffix != DVC_SUFFIX and not p.with_name(p.name + DVC_SUFFIX).exists()]
        found = [str(p.relative_to(root)) for p in no_dvc_file]
        return sorted(found + [name for name in gitops.untracked_files(root, self.path) if name.endswith(DVC_SUFFIX)])

    def in_tree(self, root: Path) -> dict[str, str]:
        """raw path -> md5, as the work tree's .dvc files record them."""
        return _tracked({name: (root / name).read_text() for name in self.dvc_files(root)})

    def at(self, root: Path, rev: str) -> dict[str, str]:
        """raw path -> md5, as the .dvc files committed at `rev` record them."""
        if self.single:
            name = f"{self.path}{DVC_SUFFIX}"
            return _tracked({name: gitops.show_file(root, rev, name)})
        # Two git processes however many batches: the folder's listing, then every .dvc file in one cat-file.
        blobs = {
            name: blob for name, blob in gitops.tree_entries(root, rev, self.path).items() if name.endswith(DVC_SUFFIX)
        }
        texts = gitops.read_blobs(root, sorted(set(blobs.values())))
        return _tracked({name: texts[blob] for name, blob in blobs.items()})


def tracked_deps(root: Path, dvc_yaml: str, made: set[str]) -> list[str]:
    """The stage dependencies of a dvc.yaml text that a .dvc file tracks (or a folder of them) and no stage makes:
    where raw data can live (retrain.project and `retrain init` derive it from these)."""
    return [
        dep
        for dep in dvcfiles.stage_deps(dvc_yaml)
        if dep not in made
        and (
            (root / f"{dep}{DVC_SUFFIX}").is_file()
            or ((root / dep).is_dir() and any((root / dep).glob(f"*{DVC_SUFFIX}")))
        )
    ]


def _tracked(texts: dict[str, str | None]) -> dict[str, str]:
    found = {}
    for name, text in texts.items():
        if oid := dvcfiles.tracked_hash(text):
            found[name.removesuffix(DVC_SUFFIX)] = oid
    return found
