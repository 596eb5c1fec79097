"""What each stage serves now (the registry's stage tags, read with GTO), for the report."""

from __future__ import annotations

from pathlib import Path

from retrain import dvcmetrics, gitops, layout, metrics, registry
from retrain.errors import RetrainError
from retrain.report.data import StageNow


def stages_now(
    root: Path, artifact: str, metric: str, metrics_file: str, repo: dvcmetrics.Repo | None = None
) -> list[StageNow]:
    """Every stage `.gto` allows, with the release it holds and that release's primary metric; none at all when
    the project configures no stages or its registry cannot be read (the report never fails a run for that)."""
    try:
        allowed = registry.allowed_stages(root)
        # GTO's state is read only when something was ever promoted: a project without promotions pays nothing
        held = registry.holdings(root, artifact) if gitops.tags(root, layout.stage_glob(artifact)) else []
    except RetrainError:
        return []
    holders: dict[str, registry.Holding] = {}
    for each in held:  # newest first: the first of each stage is its holder, as GTO shows it
        holders.setdefault(each.stage, each)
    releases = {stage: f"{artifact}@{holding.version}" for stage, holding in holders.items()}
    read = dvcmetrics.read(root, [(release, metrics_file) for release in releases.values()], repo) if releases else {}
    found = []
    for stage in allowed:
        holding = holders.get(stage)
        if holding is None:
            found.append(StageNow(stage, None, None, None))
            continue
        release = releases[stage]
        value = metrics.flatten(dvcmetrics.mapping(read[(release, metrics_file)])).get(metric)
        found.append(StageNow(stage, release, registry.iso(holding.since), value))
    return found
