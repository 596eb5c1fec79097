"""`retrain restore`: bring back a release whole, or only its data or its model, once everything it needs is here."""

from __future__ import annotations

import shutil
from pathlib import Path

from retrain import gitops, project
from retrain.dvcops import Pipeline
from retrain.errors import BadInputError, RetrainError
from retrain.rawdata import DVC_SUFFIX, Raw, RawFile
from retrain.releases import outputs_at


def restore(root: Path, tag: str, only: str | None, remote: str | None) -> str:
    """Check everything is available first, then change the workspace; return a one-line summary."""
    if not gitops.tags(root, tag):
        raise BadInputError(f"unknown tag `{tag}`: `retrain releases` lists the releases (try `git fetch --tags`).")
    dirty = gitops.dirty_tracked_files(root)
    if dirty:
        raise BadInputError(f"uncommitted changes to {', '.join(dirty[:5])}: commit or stash them before a restore.")
    with Pipeline(root, remote) as pipeline:
        outputs = outputs_at(root, tag)
        found = project.load(root)
        model_path, raw = found.model_path, found.raw
        if only is None:
            wanted = outputs
        elif only == "data":
            wanted = raw.at(root, tag)
        else:
            wanted = {path: oid for path, oid in outputs.items() if path == model_path}
        unavailable = pipeline.unavailable(wanted)
        if unavailable:
            shown = ", ".join(f"{item.label} ({item.oid})" for item in unavailable[:3])
            raise RetrainError(
                f"cannot restore {tag}: {len(unavailable)} object(s) are neither in this machine's cache nor in "
                f"remote `{pipeline.remote}`: {shown}. The workspace is unchanged. Push them from a machine that "
                "has them, or restore another release."
            )
        pipeline.fetch_objects(wanted)
        if only is None:
            # Batches delivered after the tag leave the work tree too: DVC's checkout removes only the files its
            # own record of this work tree names, and a fresh clone or another machine has no such record.
            files = raw.files_at(root, tag)
            _set_aside_later(root, raw, _dvc_files(files))
            # the post-checkout hook is skipped: this checks out the data itself, from what it just fetched
            gitops.checkout_detached(root, tag)
            with Pipeline(root, remote) as checked_out:  # the tag's dvc.yaml and dvc.lock, read anew
                checked_out.checkout()
            return f"restored {tag} whole: code, {len(files)} raw file(s), model and outputs (HEAD detached at {tag})"
        if only == "data":
            return _restore_data(root, tag, pipeline, raw)
        target = root / model_path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.unlink()  # DVC may have linked it from the cache: never write through the link
        shutil.copyfile(pipeline.cache_path(wanted[model_path]), target)
        return f"restored the model of {tag} into {model_path} with today's code and data"


def _restore_data(root: Path, tag: str, pipeline: Pipeline, raw: Raw) -> str:
    """The raw data becomes exactly the tag's (today's later batches leave the work tree, not git's history)."""
    files = raw.files_at(root, tag)
    released = _dvc_files(files)
    later = _set_aside_later(root, raw, released)
    gitops.checkout_paths(root, tag, released)
    pipeline.checkout(released)
    aside = f"; {len(later)} later .dvc file(s) set aside (`git checkout HEAD -- {raw.path}` brings them back)"
    shown = f"{len(files)} batches" if not raw.single else "1 file"
    return f"restored the data of {tag} into {raw.path} with today's code ({shown}{aside * bool(later)})"


def _dvc_files(files: list[RawFile]) -> list[str]:
    """The .dvc files that record `files`: a batch's own, or its partition's."""
    return sorted({raw_file.dvc_file for raw_file in files})


def _set_aside_later(root: Path, raw: Raw, released: list[str]) -> list[str]:
    """Remove the .dvc files of today's raw data that are not among `released` (the tag's), with the data they
    track; return them."""
    later = [name for name in raw.dvc_files(root) if name not in released]
    for name in later:
        (root / name).unlink()
        tracked = root / name.removesuffix(DVC_SUFFIX)
        if tracked.is_dir():  # a partition made after the tag
            shutil.rmtree(tracked)
        tracked.unlink(missing_ok=True)
    return later
