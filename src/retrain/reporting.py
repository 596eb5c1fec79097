"""Build the report of a run or a pull request (metrics and params against a base revision), and write it with
its plots."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from retrain import gitops, versioning
from retrain.params import PARAMS_FILE
from retrain.report import DATA_KEYS, KEY_METRICS, MetricChange, Report, render_markdown, write_plots

METRICS = "metrics/metrics.json"
DATA_STATS = "metrics/data.json"
CONFUSION = Path("plots/confusion.csv")


def compare(root: Path, report: Report, base_rev: str | None) -> None:
    """Fill metrics, data and params changes: the workspace's metrics files and params.yaml against the same files
    committed at `base_rev` (read with git: what `dvc metrics diff` and `dvc params diff` compare, without
    DVC's ≈0.3 s of set-up), or alone for a first release."""
    metrics, stats = _read_json(root / METRICS), _read_json(root / DATA_STATS)
    if base_rev is None:
        old_metrics: dict = {}
        old_stats: dict = {}
    elif _is_workspace(root, base_rev):  # a no-op run: the base is this very commit, nothing changed
        old_metrics, old_stats = metrics, stats
    else:
        old_metrics, old_stats = gitops.json_at(root, base_rev, METRICS), gitops.json_at(root, base_rev, DATA_STATS)
        old_params = gitops.yaml_at(root, base_rev, PARAMS_FILE)
        new_params = yaml.safe_load((root / PARAMS_FILE).read_text()) or {}
        report.params = versioning.changed_params(old_params, new_params)
    report.metrics = _changes(old_metrics, metrics, KEY_METRICS)
    report.data = _changes(old_stats, stats, DATA_KEYS)


def _changes(old: dict, new: dict, keys: tuple[str, ...]) -> list[MetricChange]:
    return [MetricChange(key, old.get(key), new.get(key)) for key in keys if key in old or key in new]


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def _is_workspace(root: Path, rev: str) -> bool:
    """`rev` is HEAD and no tracked file differs from it."""
    commit = gitops.git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    return commit == gitops.head(root) and not gitops.dirty_tracked_files(root)


def per_class(root: Path, rev: str | None) -> dict | None:
    metrics = _read_json(root / METRICS) if rev is None else gitops.json_at(root, rev, METRICS)
    return metrics.get("per_class_f1")


def write(report: Report, root: Path, output: Path, base_rev: str | None) -> Path:
    """Render the plots beside the report, then the markdown; return the report's path."""
    output = output if output.is_absolute() else root / output
    new = per_class(root, None)
    if new:
        report.plots = write_plots(output.parent, root / CONFUSION, new, per_class(root, base_rev), report.base_label)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_markdown(report))
    return output
