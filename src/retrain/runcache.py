"""DVC's run-cache across remotes: what a pull request computed goes to its own remote (never the one releases read),
and a merge build adopts it only when a team opts in (`retrain run --trust-runs-from`, docs/ci.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from retrain.dvcops import Pipeline, remote_errors
from retrain.errors import BadInputError, RetrainError

if TYPE_CHECKING:
    from dvc_data.hashfile.db import HashFileDB


def _runs_odb(pipeline: Pipeline, remote: str) -> HashFileDB:
    """Where `remote` keeps run-cache entries (DVC's legacy md5-dos2unix layout, under `runs/`)."""
    odb: HashFileDB = pipeline.repo.cloud.get_remote_odb(remote, "run-cache", hash_name="md5-dos2unix")
    return odb


def push_apart(pipeline: Pipeline, target: str) -> int:
    """Upload to `target` (a pull request's own location) what this run computed and the remote it reads lacks:
    run-cache entries and the objects of stage outputs. Nothing is written to the remote it reads.

    A merge build never reads `target` unless it opts in (`retrain run --trust-runs-from`): a pull request's
    code cannot plant a run-cache entry or a model where releases restore from."""
    pipeline.require_remote(target)
    if target == pipeline.remote:
        raise BadInputError(f"--push-to {target}: the remote this run reads; name the pull requests' own remote.")
    try:
        entries = _new_run_entries(pipeline, target)
        # Metrics (`cache: false`) are in the local cache only when DVC saved a run-cache entry naming them.
        stage_outs = [(path, oid) for path, oid in pipeline.stage_outputs() if os.path.isfile(pipeline.cache_path(oid))]
        novel = pipeline.missing_in_remote(stage_outs) if stage_outs else []
        uploaded = pipeline.upload_from_cache(pipeline.absent_from(novel, target), target)
        return entries + len(uploaded)
    except RetrainError:
        raise
    except remote_errors() as error:
        raise RetrainError(f"push to remote `{target}` failed: {error}; re-run when it is reachable.") from None


def push_new(pipeline: Pipeline) -> int:
    """Upload to the run's remote the local run-cache entries it lacks. `dvc push --run-cache` uploads every local
    entry on every push (DVC's transfer forces it): on a long-lived clone, every run that machine ever made."""
    try:
        return _upload(pipeline, pipeline.remote, _absent(pipeline, pipeline.remote, _local_entries(pipeline)))
    except remote_errors() as error:
        raise RetrainError(
            f"dvc push to remote `{pipeline.remote}` failed: {error}; nothing was committed or tagged. "
            "Re-run when the remote is reachable."
        ) from None


def _new_run_entries(pipeline: Pipeline, target: str) -> int:
    """Copy to `target` the local run-cache entries that neither the read remote nor `target` holds."""
    fresh = _absent(pipeline, pipeline.remote, _local_entries(pipeline))
    return _upload(pipeline, target, _absent(pipeline, target, fresh))


def _local_entries(pipeline: Pipeline) -> list[str]:
    """The local run-cache's entries, as paths relative to the cache (`runs/KK/KEY/VALUE`)."""
    local = Path(pipeline.repo.stage_cache.cache_dir)
    return sorted(str(path.relative_to(local.parent)) for path in local.rglob("*") if path.is_file())


def _absent(pipeline: Pipeline, remote: str, names: list[str]) -> list[str]:
    """Those of `names` that `remote` lacks, asked in one batched call."""
    if not names:
        return []
    odb = _runs_odb(pipeline, remote)
    there = odb.fs.exists([odb.fs.join(odb.path, *name.split(os.sep)) for name in names])
    return [name for name, found in zip(names, there, strict=True) if not found]


def _upload(pipeline: Pipeline, remote: str, names: list[str]) -> int:
    local = Path(pipeline.repo.stage_cache.cache_dir).parent
    odb = _runs_odb(pipeline, remote)
    for name in names:
        odb.fs.put_file(str(local / name), odb.fs.join(odb.path, *name.split(os.sep)))
    return len(names)


def adopt_runs(pipeline: Pipeline, source: str) -> list[str]:
    """Opt-in: the run-cache entries `source` holds (a pull requests' remote), and the objects they name, into
    the local cache, so that the next reproduce restores stages from them. Returns the entries added."""
    from dvc.stage.cache import RunCacheNotSupported

    pipeline.require_remote(source)
    local = Path(pipeline.repo.stage_cache.cache_dir)
    before = {path for path in local.rglob("*") if path.is_file()} if local.is_dir() else set()
    try:
        pairs = pipeline.repo.stage_cache.pull(source)
        fresh = [pair for pair in pairs if local / pair[0][:2] / pair[0] / pair[1] not in before]
        for objs in pipeline.repo.stage_cache.get_used_objs(fresh).values():
            # Objects the pull request found in the release remote are not in `source`: reproduce pulls those.
            pipeline.repo.cloud.pull(objs, remote=source)
    except RunCacheNotSupported as error:
        raise BadInputError(f"remote `{source}` keeps no run-cache: {error}") from None
    except remote_errors() as error:
        raise RetrainError(f"could not read run-cache from remote `{source}`: {error}") from None
    return [f"{key}/{value}" for key, value in fresh]


def forget_unused(pipeline: Pipeline, adopted: list[str]) -> int:
    """After reproduce: drop adopted entries whose key no stage of the current dvc.lock has, so that the release
    push promotes only the pull-request entries this release restored. Returns how many were dropped."""
    # DVC's private API, pinned by tests/code/test_dvc_private_api.py: DVC offers no public way to name a stage's
    # run-cache key.
    from dvc.stage.cache import _can_hash, _get_stage_hash

    keys = {_get_stage_hash(stage) for stage in pipeline.index().stages if _can_hash(stage)}  # as dvc.lock is now
    local = Path(pipeline.repo.stage_cache.cache_dir)
    dropped = 0
    for entry in adopted:
        key, value = entry.split("/")
        if key not in keys:
            (local / key[:2] / key / value).unlink(missing_ok=True)
            dropped += 1
    return dropped
