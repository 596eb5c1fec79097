"""PNG plots beside the report: a confusion matrix for each data file of dvc.yaml's `template: confusion` plots, a
line chart for each plot with x/y columns (ROC, precision-recall: dvclive's JSON plots), and a per-class metric
(`per_class_<name>` in the metrics file) against the base (or alone, with none). Every data file is read through
DVC's plot parser (retrain.dvcplots): JSON, YAML, CSV or TSV."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrain.dvcplots import rows
from retrain.report.data import metric_label

CONFUSION_PNG = "confusion.png"


@dataclass(frozen=True)
class Confusion:
    path: Path  # the plot's data file: one row per held-out sample
    actual: str  # its column of the matrix's rows (dvc.yaml's y)
    predicted: str  # its column of the matrix's columns (dvc.yaml's x)


@dataclass(frozen=True)
class Lines:
    """A top-level plot of dvc.yaml drawn as lines: one per data file, x against y."""

    name: str
    x: str
    series: tuple[tuple[Path, str], ...]  # (data file, its y column)


def counts(confusion: Confusion) -> tuple[list[str], list[list[int]]]:
    """The labels and [row][column] counts of a confusion data file; empty without the file."""
    if not confusion.path.is_file():
        return [], []
    pairs = [(str(row[confusion.actual]), str(row[confusion.predicted])) for row in rows(confusion.path)]
    labels = ordered({label for pair in pairs for label in pair})
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for actual, predicted in pairs:
        matrix[index[actual]][index[predicted]] += 1
    return labels, matrix


def ordered(labels: Iterable[str]) -> list[str]:
    """Class labels in their natural order: numerically when they are all numbers, else as text."""
    listed = list(labels)
    try:
        return sorted(listed, key=float)
    except ValueError:
        return sorted(listed)


def write_plots(
    out_dir: Path,
    confusions: list[Confusion],
    per_class_new: tuple[str, dict[str, Any]] | None,
    per_class_old: tuple[str, dict[str, Any]] | None,
    base: str,
    lines: list[Lines] | None = None,
) -> list[tuple[str, str]]:
    """(caption, file name) of each plot written. Skipped when the inputs are those of the plots already there
    (a no-op run): matplotlib's import and rendering are most of a no-op run's time."""
    present = [confusion for confusion in confusions if confusion.path.is_file()]
    drawn_lines = [plot for plot in lines or [] if any(path.is_file() for path, _ in plot.series)]
    old = per_class_old[1] if per_class_old and per_class_new and per_class_old[0] == per_class_new[0] else None
    titles: dict[str, str] = {}
    for number, confusion in enumerate(present):
        name = CONFUSION_PNG if number == 0 else f"confusion-{number + 1}.png"
        titles[name] = "Confusion matrix" + (f" ({confusion.path.name})" if len(present) > 1 else "")
    for number, plot in enumerate(drawn_lines):
        titles[f"plot-{number + 1}.png"] = plot.name
    if per_class_new:
        titles[f"per_class_{per_class_new[0]}.png"] = f"{metric_label(per_class_new[0])} per class"
    inputs = [path for confusion in present for path in [confusion.path]]
    inputs += [path for plot in drawn_lines for path, _ in plot.series if path.is_file()]
    key = hashlib.md5(
        json.dumps([per_class_new, old, base, titles, [str(path) for path in inputs]], sort_keys=True).encode()
        + b"".join(path.read_bytes() for path in inputs),
        usedforsecurity=False,
    ).hexdigest()
    stamp = out_dir / ".plots-inputs"
    made = [(title, name) for name, title in titles.items()]
    if stamp.is_file() and stamp.read_text() == key and all((out_dir / name).is_file() for name in titles):
        return made
    out_dir.mkdir(parents=True, exist_ok=True)
    names = iter(titles)
    for confusion in present:
        _confusion(out_dir / next(names), confusion)
    for plot in drawn_lines:
        _lines(out_dir / next(names), plot)
    if per_class_new:
        _per_class(out_dir / f"per_class_{per_class_new[0]}.png", per_class_new, old, base)
    stamp.write_text(key)
    return made


def _headless() -> None:
    """Before pyplot's import: render without a display (CI runners have none)."""
    import matplotlib

    matplotlib.use("Agg")


def _confusion(target: Path, confusion: Confusion) -> None:
    _headless()
    import matplotlib.pyplot as plt

    labels, matrix = counts(confusion)
    most = max((count for row in matrix for count in row), default=0)
    figure, axis = plt.subplots(figsize=(5, 4.5))
    axis.imshow(matrix, cmap="Blues")  # no colour bar: every cell prints its count
    for row, cells in enumerate(matrix):
        for column, count in enumerate(cells):
            if count:
                color = "white" if count > most / 2 else "black"
                axis.text(column, row, str(count), ha="center", va="center", fontsize=7, color=color)
    axis.set(xlabel=confusion.predicted, ylabel=confusion.actual, title=f"Confusion matrix ({confusion.path.name})")
    axis.set_xticks(range(len(labels)), labels)
    axis.set_yticks(range(len(labels)), labels)
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    plt.close(figure)


def _lines(target: Path, plot: Lines) -> None:
    """One line per data file (its y column against the plot's x), labelled with the file's path."""
    _headless()
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 4))
    for path, column in plot.series:
        if path.is_file():
            points = rows(path)
            axis.plot([float(row[plot.x]) for row in points], [float(row[column]) for row in points], label=path.name)
    axis.set(xlabel=plot.x, ylabel=", ".join(dict.fromkeys(column for _, column in plot.series)), title=plot.name)
    axis.legend(loc="best")
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    plt.close(figure)


def _per_class(target: Path, new: tuple[str, dict[str, Any]], old: dict[str, Any] | None, base: str) -> None:
    """Bars of this run beside the base's; with no base, this run alone, and the title says so."""
    _headless()
    import matplotlib.pyplot as plt
    import numpy as np

    name, values = new
    classes = sorted(
        values, key=lambda label: (not str(label).isdigit(), int(label) if str(label).isdigit() else 0, str(label))
    )
    positions = np.arange(len(classes))
    width = 0.4 if old else 0.6
    figure, axis = plt.subplots(figsize=(6, 3.5))
    if old:
        axis.bar(positions - width / 2, [old.get(label, 0) for label in classes], width, label=base)
    axis.bar(positions + (width / 2 if old else 0), [values[label] for label in classes], width, label="this run")
    title = f"{metric_label(name)} per class" + ("" if old else f": this run only ({base}, nothing to compare)")
    axis.set(xlabel="class", ylabel=metric_label(name), title=title)
    axis.set_xticks(positions, classes)
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    plt.close(figure)
