"""The numbers of the work tree against a base revision: metrics, data statistics and params, read from the files
committed there with git (what `dvc metrics diff` and `dvc params diff` compare, without DVC's set-up)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from retrain import dvcops, gitops, versioning
from retrain.layout import DATA_STATS, LOCK, METRICS, PARAMS_FILE
from retrain.report.data import DATA_KEYS, KEY_METRICS, MetricChange, Report


def compare(root: Path, report: Report, base_rev: str | None) -> None:
    """Fill the report's metrics, data and params changes; with no base (a first release), this run alone."""
    metrics, stats = read_json(root / METRICS), read_json(root / DATA_STATS)
    if base_rev is None:
        old_metrics: dict = {}
        old_stats: dict = {}
    elif _is_workspace(root, base_rev):  # a no-op run: the base is this very commit, nothing changed
        old_metrics, old_stats = metrics, stats
    else:
        old_metrics, old_stats = gitops.json_at(root, base_rev, METRICS), gitops.json_at(root, base_rev, DATA_STATS)
        new_params = yaml.safe_load((root / PARAMS_FILE).read_text()) or {}
        report.params = versioning.changed_params(gitops.yaml_at(root, base_rev, PARAMS_FILE), new_params)
        report.inputs = changed_inputs(gitops.show_file(root, base_rev, LOCK), _read_text(root / LOCK))
    report.metrics = _changes(old_metrics, metrics, KEY_METRICS)
    report.data = _changes(old_stats, stats, DATA_KEYS)


def changed_inputs(base_lock: str | None, lock: str | None) -> list[str]:
    """Stage dependencies (data, code, the environment's lock) whose hash differs between two dvc.lock texts."""
    old, new = dvcops.lock_deps(base_lock), dvcops.lock_deps(lock)
    return sorted(path for path in set(old) | set(new) if old.get(path) != new.get(path))


def _read_text(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None


def per_class(root: Path, rev: str | None) -> dict | None:
    """Per-class F1 of the work tree (rev None) or of a revision."""
    metrics = read_json(root / METRICS) if rev is None else gitops.json_at(root, rev, METRICS)
    return metrics.get("per_class_f1")


def read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def _changes(old: dict, new: dict, keys: tuple[str, ...]) -> list[MetricChange]:
    return [MetricChange(key, old.get(key), new.get(key)) for key in keys if key in old or key in new]


def _is_workspace(root: Path, rev: str) -> bool:
    """`rev` is HEAD and no tracked file differs from it."""
    return gitops.resolve(root, rev) == gitops.head(root) and not gitops.dirty_tracked_files(root)
