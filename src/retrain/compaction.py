"""`release.partition_by: month`: the release compacts the batches that an earlier release already holds into one
folder per month, `<folder>/<YYYY-MM>/`, tracked by one `<folder>/<YYYY-MM>.dvc` whose `meta: partition:` lists
each batch with its md5 and ingest record. DVC parses one .dvc file per month instead of one per delivery.

What stays true:
- new batches still arrive as single files with their own .dvc file, so two pull requests that each add one merge
  without conflict (only the release, on one branch, one at a time, writes partitions);
- a batch keeps its name (`<folder>/<file>`): the append-only check, the version bump and ingest's record compare
  names, which compaction does not change; an old tag restores byte-exact (its .dvc files name the same objects);
- a partition's .dvc file is the release's own: any other change to it is refused (check_partitions), so the
  listing that the engine reads from git is the one DVC's `.dir` manifest was checked against when it was written.
Compaction runs only in a release that brings new data, which re-runs the stages that read raw data anyway: a
no-op or a params-only run moves nothing.
"""

from __future__ import annotations

import filecmp
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrain import dvcfiles, gitops, layout, versioning
from retrain.dvcops import Pipeline
from retrain.errors import BadInputError, RetrainError
from retrain.rawdata import DVC_SUFFIX, GITIGNORE_NAME, PARTITION_NAME, Raw, RawFile, partition_of


@dataclass(frozen=True)
class Compacted:
    partition: str  # `<folder>/<YYYY-MM>`
    moved: int  # batches moved into it
    paths: list[str]  # what the release commits: the partition's .dvc file, the folder's .gitignore, the moved .dvc


Members = dict[str, tuple[str, dict[str, Any] | None]]  # file name -> (md5, ingest record)


def movable(files: list[RawFile], released: dict[str, str]) -> list[RawFile] | None:
    """The single batches that the latest release holds unchanged, when the work tree brings new data; None when it
    brings none (nothing is compacted then, so that a no-op stays one)."""
    if all(released.get(raw.name) == raw.md5 for raw in files):
        return None
    return [raw for raw in files if not raw.partitioned and released.get(raw.name) == raw.md5]


def compact(root: Path, raw: Raw, pipeline: Pipeline, base_tag: str, released: dict[str, str]) -> Compacted | None:
    """Move what `movable` names into the partition of the base release's month; the paths the release commits."""
    files = raw.files(root)
    moving = movable(files, released)
    if not moving:
        return None
    folder = raw.folder
    partition = f"{folder}/{gitops.commit_month(root, base_tag)}"
    dvc_file = f"{partition}{DVC_SUFFIX}"
    kept = [found for found in files if found.dvc_file == dvc_file]
    if any(not (root / found.path).is_file() for found in kept + moving):
        pipeline.pull(sorted({found.dvc_file for found in kept + moving}))  # `dvc add` records what is here
    (root / partition).mkdir(exist_ok=True)
    for found in moving:
        os.replace(root / found.path, root / partition / Path(found.path).name)
        (root / found.dvc_file).unlink()
    pipeline.track([partition])
    members: Members = {Path(found.name).name: (found.md5, found.ingest) for found in kept + moving}
    text = (root / dvc_file).read_text()
    _check_manifest(pipeline, partition, text, members)
    (root / dvc_file).write_text(dvcfiles.with_partition_meta(text, members))
    paths = sorted({dvc_file, f"{folder}/{GITIGNORE_NAME}", *(found.dvc_file for found in moving)})
    return Compacted(partition, len(moving), paths)


def _check_manifest(pipeline: Pipeline, partition: str, text: str, members: Members) -> None:
    """DVC's `.dir` manifest of the new partition holds exactly the batches moved into it, byte for byte."""
    oid = dvcfiles.tracked_hash(text) or ""
    listed = {item.label.removeprefix(f"{partition}/"): item.oid for item in pipeline.expand([(partition, oid)])[1:]}
    expected = {name: md5 for name, (md5, _) in members.items()}
    if listed != expected:
        differ = sorted(set(listed.items()) ^ set(expected.items()))[:3]
        raise RetrainError(
            f"{partition}: DVC recorded other files than the batches moved into it ({differ}); nothing was "
            f"committed. Restore the folder with `git checkout HEAD -- {partition.rpartition('/')[0]}` and re-run."
        )


def check_partitions(root: Path, raw: Raw, artifact: str) -> None:
    """Every partition's .dvc file in the work tree is the one the latest release on HEAD's history committed, byte
    for byte (checked before anything reads the batches it lists)."""
    if raw.single:
        return
    here = {name: (root / name).read_text() for name in raw.dvc_files(root) if partition_of(raw.path, name)}
    if not here:
        return
    base = versioning.latest(list(gitops.tags(root, layout.release_glob(artifact), merged_into="HEAD")), artifact)
    base_tag = base.tag if base else None
    listed = gitops.tree_entries(root, base_tag, raw.path) if base_tag else {}
    blobs = {name: blob for name, blob in listed.items() if name in here}
    texts = gitops.read_blobs(root, sorted(set(blobs.values())))
    for name, text in sorted(here.items()):
        if base_tag is None or name not in blobs or texts[blobs[name]] != text:
            where = f"the latest release {base_tag}" if base_tag else "any release"
            fix = f"`git checkout {base_tag} -- {name}`" if base_tag and name in blobs else f"`git rm {name}`"
            raise BadInputError(
                f"{name}: a partition of raw batches that differs from {where}: partitions are written only by the "
                f"release that compacts batches into them. Restore it ({fix}), deliver new data as new batch files "
                "with their own .dvc file, commit and re-run."
            )


def undo_moves(root: Path, raw: Raw) -> int:
    """After a release commit that compacted was dropped (origin moved, the run goes again on top of it): each batch
    a partition's .dvc file no longer lists goes back where its own .dvc file expects it, and an emptied partition
    folder goes. The number of batches moved back."""
    folder = root / raw.path
    if raw.single or not folder.is_dir():
        return 0
    listed = {found.path for found in raw.files(root)}
    moved = 0
    for partition in sorted(path for path in folder.iterdir() if path.is_dir() and PARTITION_NAME.match(path.name)):
        for inner in sorted(partition.iterdir()):
            own_place = folder / inner.name
            if (
                f"{raw.path}/{partition.name}/{inner.name}" in listed
                or not (folder / f"{inner.name}{DVC_SUFFIX}").is_file()
            ):
                continue
            if not own_place.exists():
                os.replace(inner, own_place)
                moved += 1
            elif filecmp.cmp(inner, own_place, shallow=False):
                inner.unlink()  # already back (pulled): the copy in the partition folder would be read twice
        if not any(partition.iterdir()):
            partition.rmdir()
    return moved
