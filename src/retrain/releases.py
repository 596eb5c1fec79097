"""`retrain releases`: every release, newest first, with its numbers and the stages it holds (read by
retrain.history, the same tree the history page draws); and what a release holds in the DVC cache (outputs_at, which
`retrain restore` and `retrain promote` read too)."""

from __future__ import annotations

from pathlib import Path

from retrain import dvcfiles, gitops, project
from retrain.history.model import History, Release
from retrain.layout import LOCK
from retrain.untrusted import printable

MISSING = "–"  # a key with no value, in a table
SHOWN_METRICS = 3  # columns of `retrain releases`: the primary metric, then the file's next float metrics


def list_releases(root: Path) -> History:
    """Every release tag of the artifact, newest version first, with the stages each holds, and the rest of the
    history (`retrain releases --json` prints it whole)."""
    from retrain.history.collect import collect

    return collect(root)


def releases_table(releases: list[Release]) -> str:
    """One line per release, each column as wide as its widest cell (no header is cut); a missing value is MISSING.
    Metric names come from the project's files: printed on one visible line (untrusted.printable)."""
    names = list(dict.fromkeys(key for info in releases for key in info.metrics))[:SHOWN_METRICS]
    header = ["tag", "date", "rows", *(printable(name) for name in names), "commit", "stages"]
    rows = [
        [
            info.tag,
            info.date,
            f"{info.rows:,}" if info.rows is not None else MISSING,
            *(f"{info.metrics[name]:.4f}" if name in info.metrics else MISSING for name in names),
            info.commit[:8],
            ", ".join(f"{held.stage} since {held.since}" for held in info.stages),
        ]
        for info in releases
    ]
    numbers = range(2, 3 + len(names))  # rows and the metrics: right-aligned
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.rjust(widths[column]) if column in numbers else cell.ljust(widths[column])
            for column, cell in enumerate(row)
        ).rstrip()
        for row in [header, *rows]
    )


def releases_json(history: History) -> str:
    from retrain.history.model import to_json

    return to_json(history)


def outputs_at(root: Path, tag: str) -> dict[str, str]:
    """path -> oid of every cached output that the tag's dvc.lock and raw .dvc files name (not what git keeps)."""
    found_project = project.load(root)
    found = found_project.raw.at(root, tag)
    outputs = dvcfiles.lock_outputs(gitops.show_file(root, tag, LOCK))
    found.update({path: oid for path, oid in outputs.items() if path not in found_project.engine_owned})
    return found
