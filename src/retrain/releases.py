"""`retrain releases`: every release, newest first, with its numbers and the stages it holds; and what a release
holds in the DVC cache (outputs_at, which `retrain restore` and `retrain promote` read too)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from retrain import dvcfiles, gitops, layout, project, registry, versioning
from retrain.layout import LOCK


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
    outputs = dvcfiles.lock_outputs(gitops.show_file(root, tag, LOCK))
    found.update({path: oid for path, oid in outputs.items() if path not in found_project.engine_owned})
    return found
