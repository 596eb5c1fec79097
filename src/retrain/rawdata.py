"""Raw data, where `release.raw_data` says it lives (retrain.project resolves it), in one of two shapes:

- a folder of append-only batches, each tracked by its own `<batch>.dvc` file beside it. One .dvc file per batch,
  and a committed `<folder>/.gitignore` that already ignores every batch, so adding a batch edits no shared file:
  two branches that each add one merge without conflict under any merge (GitHub's merge button and merge queue
  ignore merge drivers). With `release.partition_by: month`, the release compacts the batches an earlier release
  holds into one folder per month, `<folder>/<YYYY-MM>/`, tracked by one `<folder>/<YYYY-MM>.dvc` that lists its
  batches (retrain.compaction): DVC's cost follows the months, not the deliveries;
- one file (or folder) tracked by a single `<path>.dvc` beside it.

Either way the engine sees one RawFile per batch, named `<folder>/<file>` wherever it lives, in the work tree or at
a revision: the append-only check and the version bump compare names, which compaction does not change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
PARTITION_NAME = re.compile(r"^\d{4}-(?:0[1-9]|1[0-2])$")  # a month, YYYY-MM


@dataclass(frozen=True)
class RawFile:
    """One raw file as git records it."""

    name: str  # `<folder>/<file>`: the same before and after compaction (what the append-only check compares)
    path: str  # where the work tree holds it: the name, or `<folder>/<YYYY-MM>/<file>` in a partition
    dvc_file: str  # the .dvc file that tracks it: its own, or its partition's
    md5: str
    ingest: dict[str, Any] | None = field(default=None, compare=False)  # its delivery's record, if ingested

    @property
    def partitioned(self) -> bool:
        return self.path != self.name


def partition_of(folder: str, dvc_file: str) -> str | None:
    """The month a .dvc file of the batch folder tracks as a partition (`<folder>/<YYYY-MM>.dvc`), else None."""
    parent, _, name = dvc_file.removesuffix(DVC_SUFFIX).rpartition("/")
    return name if parent == folder and PARTITION_NAME.match(name) else None


def batch_files(folder: str, texts: Mapping[str, str]) -> Iterator[RawFile]:
    """The raw files that the batch folder's .dvc files (path -> text) record, partitions' members included."""
    for dvc_file, text in sorted(texts.items()):
        tracked = dvc_file.removesuffix(DVC_SUFFIX)
        if partition_of(folder, dvc_file):
            for name, (md5, ingest) in dvcfiles.partition_members(text).items():
                yield RawFile(f"{folder}/{name}", f"{tracked}/{name}", dvc_file, md5, ingest)
            continue
        oid, record = dvcfiles.batch_record(text)
        if oid:
            yield RawFile(tracked, tracked, dvc_file, oid, record)


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

    def compaction_writes(self, name: str) -> bool:
        """A file a release's compaction changes: the batch folder's .dvc files and its .gitignore."""
        parent, _, base = name.rpartition("/")
        return not self.single and parent == self.path and (base.endswith(DVC_SUFFIX) or base == GITIGNORE_NAME)

    def dvc_files(self, root: Path) -> list[str]:
        """The raw data's .dvc files in the work tree, relative to the root, sorted."""
        if self.single:
            return [f"{self.path}{DVC_SUFFIX}"] if (root / f"{self.path}{DVC_SUFFIX}").is_file() else []
        folder = root / self.path
        found = folder.glob(f"*{DVC_SUFFIX}") if folder.is_dir() else []
        return sorted(str(path.relative_to(root)) for path in found)

    def untracked(self, root: Path) -> list[str]:
        """Raw files a release would train on but not store: a file with no .dvc file, a file in a partition folder
        that its .dvc file does not list, or a .dvc file git does not track yet."""
        if self.single:
            dvc_file = f"{self.path}{DVC_SUFFIX}"
            bare = [] if (root / dvc_file).is_file() or not (root / self.path).exists() else [self.path]
            return sorted(bare + gitops.untracked_files(root, dvc_file))
        folder = root / self.path
        files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")] if folder.is_dir() else []
        no_dvc_file = [p for p in files if p.suffix != DVC_SUFFIX and not p.with_name(p.name + DVC_SUFFIX).exists()]
        found = [str(p.relative_to(root)) for p in no_dvc_file]
        folders = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")] if folder.is_dir() else []
        tracked = [p for p in folders if p.with_name(p.name + DVC_SUFFIX).is_file()]
        found += [str(p.relative_to(root)) for p in folders if p not in tracked]
        partitions = [p for p in tracked if partition_of(self.path, f"{self.path}/{p.name}{DVC_SUFFIX}")]
        if partitions:  # only then read every .dvc file, for what the partitions list
            listed = {raw.path for raw in self.files(root)}
            for partition in partitions:
                inside = (str(p.relative_to(root)) for p in partition.iterdir() if not p.name.startswith("."))
                found += [name for name in inside if name not in listed]
        return sorted(found + [name for name in gitops.untracked_files(root, self.path) if name.endswith(DVC_SUFFIX)])

    def files(self, root: Path) -> list[RawFile]:
        """Every raw file, as the work tree's .dvc files record them."""
        return self._read({name: (root / name).read_text() for name in self.dvc_files(root)})

    def files_at(self, root: Path, rev: str) -> list[RawFile]:
        """Every raw file, as the .dvc files committed at `rev` record them."""
        if self.single:
            name = f"{self.path}{DVC_SUFFIX}"
            return self._read({name: gitops.show_file(root, rev, name) or ""})
        # Two git processes however many batches: the folder's listing, then every .dvc file in one cat-file.
        blobs = {
            name: blob for name, blob in gitops.tree_entries(root, rev, self.path).items() if name.endswith(DVC_SUFFIX)
        }
        texts = gitops.read_blobs(root, sorted(set(blobs.values())))
        return self._read({name: texts[blob] for name, blob in blobs.items()})

    def in_tree(self, root: Path) -> dict[str, str]:
        """raw file name -> md5, as the work tree's .dvc files record them."""
        return {raw.name: raw.md5 for raw in self.files(root)}

    def at(self, root: Path, rev: str) -> dict[str, str]:
        """raw file name -> md5, as the .dvc files committed at `rev` record them."""
        return {raw.name: raw.md5 for raw in self.files_at(root, rev)}

    def _read(self, texts: Mapping[str, str]) -> list[RawFile]:
        if self.single:
            tracked = {name: md5 for name, text in texts.items() if (md5 := dvcfiles.tracked_hash(text))}
            return [RawFile(self.path, self.path, name, md5) for name, md5 in tracked.items()]
        return list(batch_files(self.path, texts))


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
