"""The numbers of the work tree against a base revision: metrics, data statistics and params, read where they live
there (in git, or through DVC: retrain.dvcmetrics), as `dvc metrics diff` and `dvc params diff` compare them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from retrain import dvcfiles, dvcmetrics, gitops, versioning
from retrain.layout import LOCK, PARAMS_FILE
from retrain.metrics import PER_CLASS, flatten, headline
from retrain.report.data import MetricChange, Report


def compare(
    root: Path,
    report: Report,
    base_rev: str | None,
    metrics_file: str,
    stats_file: str | None,
    repo: dvcmetrics.Repo | None = None,
) -> None:
    """Fill the report's metrics, data and params changes; with no base (a first release), this run alone. Every
    number of the metrics file (the primary metric first) and of the data statistics, if the project keeps them."""
    metrics = flatten(read_json(root / metrics_file))
    stats = read_json(root / stats_file) if stats_file else {}
    if base_rev is None:
        old_metrics: dict[str, float] = {}
        old_stats: dict[str, Any] = {}
    elif _is_workspace(root, base_rev):  # a no-op run: the base is this very commit, nothing changed
        old_metrics, old_stats = metrics, stats
    else:
        files = [metrics_file, *([stats_file] if stats_file else [])]
        found = dvcmetrics.read(root, [(base_rev, path) for path in files], repo)
        old_metrics = flatten(dvcmetrics.mapping(found[(base_rev, metrics_file)]))
        old_stats = dvcmetrics.mapping(found[(base_rev, stats_file)]) if stats_file else {}
        if isinstance(unread := found[(base_rev, metrics_file)], dvcmetrics.Unreadable):
            report.notes.append(f"The metrics of `{base_rev}` could not be read: {unread.reason}.")
        new_params = yaml.safe_load((root / PARAMS_FILE).read_text()) or {}
        report.params = versioning.changed_params(gitops.yaml_at(root, base_rev, PARAMS_FILE), new_params)
        report.inputs = changed_inputs(gitops.show_file(root, base_rev, LOCK), _read_text(root / LOCK))
    keys = [*headline(metrics, report.metric), *headline(old_metrics, report.metric)]
    report.metrics = _changes(old_metrics, metrics, tuple(dict.fromkeys(keys)))
    report.data = _changes(old_stats, stats, tuple(dict.fromkeys([*_numbers(stats), *_numbers(old_stats)])))


def changed_inputs(base_lock: str | None, lock: str | None) -> list[str]:
    """Stage dependencies (data, code, the environment's lock) whose hash differs between two dvc.lock texts."""
    old, new = dvcfiles.lock_deps(base_lock), dvcfiles.lock_deps(lock)
    return sorted(path for path in set(old) | set(new) if old.get(path) != new.get(path))


def _read_text(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None


def per_class(
    root: Path, rev: str | None, metrics_file: str, repo: dvcmetrics.Repo | None = None
) -> tuple[str, dict[str, Any]] | None:
    """(name, {class: value}) of the first `per_class_<name>` metric of the work tree (rev None) or a revision."""
    if rev is None:
        metrics = read_json(root / metrics_file)
    else:
        metrics = dvcmetrics.mapping(dvcmetrics.read(root, [(rev, metrics_file)], repo)[(rev, metrics_file)])
    for key, value in metrics.items():
        if key.startswith(PER_CLASS) and isinstance(value, dict) and value:
            return key.removeprefix(PER_CLASS), value
    return None


def _numbers(found: dict[str, Any]) -> list[str]:
    return [key for key, value in found.items() if isinstance(value, int | float) and not isinstance(value, bool)]


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def _changes(old: dict[str, Any], new: dict[str, Any], keys: tuple[str, ...]) -> list[MetricChange]:
    return [MetricChange(key, old.get(key), new.get(key)) for key in keys if key in old or key in new]


def _is_workspace(root: Path, rev: str) -> bool:
    """`rev` is HEAD and no tracked file differs from it."""
    return gitops.resolve(root, rev) == gitops.head(root) and not gitops.dirty_tracked_files(root)
