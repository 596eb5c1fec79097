"""Releases as snapshots: list them, and restore one whole, or only its data or its model."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from retrain import dvcops, gitops, layout, project, registry, versioning
from retrain.dvcops import Pipeline
from retrain.errors import BadInputError, RetrainError
from retrain.layout import LOCK
from retrain.rawdata import DVC_SUFFIX, Raw


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
    rows: int | None  # from the data statistics (release.data_stats), when the project keeps them
    metrics: dict[str, float]  # the numbers of the metrics file, the primary metric first
    stages: list[StageHeld] = field(default_factory=list)  # the stages this version holds now


SHOWN_METRICS = 3  # columns of `retrain releases`: the primary metric, then the file's next float metrics


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
    """Every release tag of the artifact, newest version first, with the stages each holds."""
    found_project = project.load(root)
    artifact, metric = found_project.artifact, found_project.config.primary_metric
    stages = held_stages(root, artifact)
    found = []
    for tag, commit in gitops.tags(root, layout.release_glob(artifact)).items():
        version = versioning.parse_tag(tag, artifact)
        if version is None:
            continue
        stats = gitops.json_at(root, tag, found_project.data_stats) if found_project.data_stats else {}
        metrics = gitops.json_at(root, tag, found_project.metrics)
        numbers = {key: value for key, value in metrics.items() if isinstance(value, float)}
        ordered = {metric: metrics[metric]} if isinstance(metrics.get(metric), int | float) else {}
        ordered.update({key: value for key, value in numbers.items() if key != metric})
        info = ReleaseInfo(tag, str(version), gitops.tag_date(root, tag), commit, stats.get("rows"), ordered)
        found.append((version, replace(info, stages=stages.get(str(version), []))))
    return [info for _, info in sorted(found, key=lambda pair: pair[0], reverse=True)]


def releases_table(releases: list[ReleaseInfo]) -> str:
    names = list(dict.fromkeys(key for info in releases for key in info.metrics))[:SHOWN_METRICS]
    width = max([16, *(len(info.tag) for info in releases)])
    columns = " ".join(f"{name[:12]:>12}" for name in names)
    lines = [f"{'tag':<{width}} {'date':<25} {'rows':>10} {columns}  {'commit':<8}  stages"]
    for info in releases:
        rows = f"{info.rows:,}" if info.rows is not None else "?"
        values = " ".join(f"{info.metrics[name]:>12.4f}" if name in info.metrics else f"{'?':>12}" for name in names)
        stages = ", ".join(f"{held.stage} since {held.since}" for held in info.stages)
        lines.append(f"{info.tag:<{width}} {info.date:<25} {rows:>10} {values}  {info.commit[:8]}  {stages}".rstrip())
    return "\n".join(lines)


def releases_json(releases: list[ReleaseInfo]) -> str:
    return json.dumps([asdict(info) for info in releases], indent=2)


def outputs_at(root: Path, tag: str) -> dict[str, str]:
    """path -> oid of every cached output that the tag's dvc.lock and raw .dvc files name (metrics live in git)."""
    found_project = project.load(root)
    found = found_project.raw.at(root, tag)
    outputs = dvcops.lock_outputs(gitops.show_file(root, tag, LOCK))
    found.update({path: oid for path, oid in outputs.items() if path not in found_project.engine_owned})
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
    found = project.load(root)
    model_path, raw = found.model_path, found.raw
    wanted = {
        None: outputs,
        "data": raw.at(root, tag),
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
        files = len(raw.at(root, tag))
        return f"restored {tag} whole: code, {files} raw file(s), model and outputs (HEAD detached at {tag})"
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
    released = {f"{path}{DVC_SUFFIX}" for path in raw.at(root, tag)}
    later = [name for name in raw.dvc_files(root) if name not in released]
    for name in later:
        (root / name).unlink()
        (root / name.removesuffix(DVC_SUFFIX)).unlink(missing_ok=True)
    gitops.checkout_paths(root, tag, sorted(released))
    pipeline.checkout(sorted(released))
    aside = f"; {len(later)} later batch(es) set aside (`git checkout HEAD -- {raw.path}` brings them back)"
    shown = f"{len(released)} batches" if not raw.single else "1 file"
    return f"restored the data of {tag} into {raw.path} with today's code ({shown}{aside * bool(later)})"
