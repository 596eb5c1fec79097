"""Releases as snapshots: list them, and restore one whole, or only its data or its model."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from retrain import dvcops, gitops, layout, rawdata, registry, versioning
from retrain.dvcops import Pipeline
from retrain.errors import BadInputError, RetrainError
from retrain.layout import DATA_STATS, LOCK, METRICS, RAW_DIR


@dataclass(frozen=True)
class StageHeld:
    stage: str
    since: str  # ISO 8601, UTC
    tag: str  # the stage tag in effect


@dataclass(frozen=True)
class ReleaseInfo:
    tag: str
    version: str
    date: str
    commit: str
    rows: int | None
    accuracy: float | None
    f1_macro: float | None
    stages: list[StageHeld] = field(default_factory=list)  # the stages this version holds now


def held_stages(root: Path, artifact: str) -> dict[str, list[StageHeld]]:
    """version -> the stages it holds now, as GTO answers per stage (the latest assignment in effect)."""
    found: dict[str, list[StageHeld]] = {}
    seen: set[str] = set()
    for held in registry.holdings(root, artifact):  # newest first: the first one of each stage is its holder
        if held.stage not in seen:
            seen.add(held.stage)
            found.setdefault(held.version, []).append(StageHeld(held.stage, registry.iso(held.since), held.tag))
    return found


def list_releases(root: Path) -> list[ReleaseInfo]:
    """Every release tag of the model artifact, newest version first, with the stages each holds."""
    artifact, _ = layout.artifact(root)
    stages = held_stages(root, artifact)
    found = []
    for tag, commit in gitops.tags(root, layout.release_glob(artifact)).items():
        version = versioning.parse_tag(tag, artifact)
        if version is None:
            continue
        stats, metrics = gitops.json_at(root, tag, DATA_STATS), gitops.json_at(root, tag, METRICS)
        found.append(
            (
                version,
                ReleaseInfo(
                    tag=tag,
                    version=str(version),
                    date=gitops.tag_date(root, tag),
                    commit=commit,
                    rows=stats.get("rows"),
                    accuracy=metrics.get("accuracy"),
                    f1_macro=metrics.get("f1_macro"),
                    stages=stages.get(str(version), []),
                ),
            )
        )
    return [info for _, info in sorted(found, key=lambda pair: pair[0], reverse=True)]


def releases_table(releases: list[ReleaseInfo]) -> str:
    header = f"{'tag':<16} {'date':<25} {'rows':>10} {'accuracy':>9} {'macro F1':>9}  {'commit':<8}  stages"
    lines = [header]
    for info in releases:
        rows = f"{info.rows:,}" if info.rows is not None else "?"
        accuracy = f"{info.accuracy:.4f}" if info.accuracy is not None else "?"
        f1 = f"{info.f1_macro:.4f}" if info.f1_macro is not None else "?"
        stages = ", ".join(f"{held.stage} since {held.since}" for held in info.stages)
        line = f"{info.tag:<16} {info.date:<25} {rows:>10} {accuracy:>9} {f1:>9}  {info.commit[:8]}  {stages}"
        lines.append(line.rstrip())
    return "\n".join(lines)


def releases_json(releases: list[ReleaseInfo]) -> str:
    return json.dumps([asdict(info) for info in releases], indent=2)


def outputs_at(root: Path, tag: str) -> dict[str, str]:
    """path -> oid of every cached output that the tag's dvc.lock and batch .dvc files name (metrics live in git)."""
    found = rawdata.at(root, tag)
    outputs = dvcops.lock_outputs(gitops.show_file(root, tag, LOCK))
    found.update({path: oid for path, oid in outputs.items() if path not in (METRICS, DATA_STATS)})
    return found


def restore(root: Path, tag: str, only: str | None, remote: str | None) -> str:
    """Check everything is available first, then change the workspace; return a one-line summary."""
    if not gitops.tags(root, tag):
        raise BadInputError(f"unknown tag `{tag}`: `retrain releases` lists the releases (try `git fetch --tags`).")
    dirty = gitops.dirty_tracked_files(root)
    if dirty:
        raise BadInputError(f"uncommitted changes to {', '.join(dirty[:5])}: commit or stash them before a restore.")
    pipeline = Pipeline(root, remote)
    outputs = outputs_at(root, tag)
    _, model_path = layout.artifact(root)
    wanted = {
        None: outputs,
        "data": rawdata.at(root, tag),
        "model": {path: oid for path, oid in outputs.items() if path == model_path},
    }[only]
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
        # the post-checkout hook is skipped: this checks out the data itself, from what it just fetched
        gitops.checkout_detached(root, tag)
        Pipeline(root, remote).checkout()
        batches = len(rawdata.at(root, tag))
        return f"restored {tag} whole: code, {batches} raw batch(es), model and outputs (HEAD detached at {tag})"
    if only == "data":
        return _restore_data(root, tag, pipeline)
    target = root / model_path
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()  # DVC may have linked it from the cache: never write through the link
    shutil.copyfile(pipeline.cache_path(wanted[model_path]), target)
    return f"restored the model of {tag} into {model_path} with today's code and data"


def _restore_data(root: Path, tag: str, pipeline: Pipeline) -> str:
    """data/raw becomes exactly the tag's batches (today's later batches leave the work tree, not git's history)."""
    released = {f"{path}{rawdata.DVC_SUFFIX}" for path in rawdata.at(root, tag)}
    later = [name for name in rawdata.dvc_files(root) if name not in released]
    for name in later:
        (root / name).unlink()
        (root / name.removesuffix(rawdata.DVC_SUFFIX)).unlink(missing_ok=True)
    gitops.checkout_paths(root, tag, sorted(released))
    pipeline.checkout(sorted(released))
    aside = f"; {len(later)} later batch(es) set aside (`git checkout HEAD -- {RAW_DIR}` brings them back)"
    return f"restored the data of {tag} into {RAW_DIR} with today's code ({len(released)} batches{aside * bool(later)})"
