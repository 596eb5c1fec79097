"""Build the report of a run or a pull request from DVC's diffs, and write it with its plots."""

from __future__ import annotations

import json
from pathlib import Path

from retrain import gitops
from retrain.dvcops import Pipeline
from retrain.report import (
    DATA_KEYS,
    KEY_METRICS,
    MetricChange,
    Report,
    metric_changes,
    render_markdown,
    write_plots,
)

METRICS = "metrics/metrics.json"
DATA_STATS = "metrics/data.json"
CONFUSION = Path("plots/confusion.csv")


def compare(pipeline: Pipeline, report: Report, base_rev: str | None) -> None:
    """Fill metrics, data and params changes: against `base_rev` with DVC's diffs, or alone for a first release."""
    root = pipeline.root
    same = base_rev is not None and _is_workspace(root, base_rev)
    if base_rev is None or same:
        # No base, or the base is this very commit with nothing changed (a no-op run): DVC's diffs (≈0.5 s) would
        # only repeat the files' values.
        metrics = json.loads((root / METRICS).read_text()) if (root / METRICS).exists() else {}
        stats = json.loads((root / DATA_STATS).read_text()) if (root / DATA_STATS).exists() else {}
        report.metrics = [
            MetricChange(key, metrics.get(key) if same else None, metrics.get(key))
            for key in KEY_METRICS
            if key in metrics
        ]
        report.data = [
            MetricChange(key, stats.get(key) if same else None, stats.get(key)) for key in DATA_KEYS if key in stats
        ]
        return
    metrics_diff, params_diff = pipeline.diff(base_rev)
    report.metrics = metric_changes(metrics_diff, KEY_METRICS, METRICS)
    report.data = metric_changes(metrics_diff, DATA_KEYS, DATA_STATS)
    report.params = {
        key: (change.get("old"), change.get("new"))
        for values in params_diff.values()
        for key, change in sorted(values.items())
    }


def _is_workspace(root: Path, rev: str) -> bool:
    """`rev` is HEAD and no tracked file differs from it."""
    commit = gitops.git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    return commit == gitops.head(root) and not gitops.dirty_tracked_files(root)


def per_class(root: Path, rev: str | None) -> dict | None:
    if rev is None:
        path = root / METRICS
        return json.loads(path.read_text()).get("per_class_f1") if path.exists() else None
    text = gitops.show_file(root, rev, METRICS)
    return json.loads(text).get("per_class_f1") if text else None


def write(pipeline: Pipeline | None, report: Report, root: Path, output: Path, base_rev: str | None) -> Path:
    """Render the plots beside the report, then the markdown; return the report's path."""
    output = output if output.is_absolute() else root / output
    new = per_class(root, None)
    if new:
        report.plots = write_plots(output.parent, root / CONFUSION, new, per_class(root, base_rev), report.base_label)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_markdown(report))
    return output
