"""`retrain releases`: every release, newest first, with its numbers and the stages it holds (read by
retrain.history, the same tree the history page draws); and what a release holds in the DVC cache (outputs_at, which
`retrain restore` and `retrain promote` read too)."""

from __future__ import annotations

from pathlib import Path

from retrain import dvcfiles, gitops, project
from retrain.history.model import History, Release
from retrain.layout import LOCK

SHOWN_METRICS = 3  # columns of `retrain releases`: the primary metric, then the file's next float metrics


def list_releases(root: Path) -> History:
    """Every release tag of the artifact, newest version first, with the stages each holds, and the rest of the
    history (`retrain releases --json` prints it whole)."""
    from retrain.history.collect import collect

    return collect(root)


def releases_table(releases: list[Release]) -> str:
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


def releases_json(history: History) -> str:
    from retrain.history.model import to_json

    return to_json(history)


def outputs_at(root: Path, tag: str) -> dict[str, str]:
    """path -> oid of every cached output that the tag's dvc.lock and raw .dvc files name (metrics live in git)."""
    found_project = project.load(root)
    found = found_project.raw.at(root, tag)
    outputs = dvcfiles.lock_outputs(gitops.show_file(root, tag, LOCK))
    found.update({path: oid for path, oid in outputs.items() if path not in found_project.engine_owned})
    return found
