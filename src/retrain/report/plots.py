"""PNG plots beside the report: a confusion matrix (from the CSV of dvc.yaml's `template: confusion` plot), and a
per-class metric (`per_class_<name>` in the metrics file) against the base (or alone, with none)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrain.report.data import metric_label

CONFUSION_PNG = "confusion.png"


@dataclass(frozen=True)
class Confusion:
    csv: Path  # one row per held-out sample
    actual: str  # its column of true labels
    predicted: str


def write_plots(
    out_dir: Path,
    confusion: Confusion | None,
    per_class_new: tuple[str, dict[str, Any]] | None,
    per_class_old: tuple[str, dict[str, Any]] | None,
    base: str,
) -> list[tuple[str, str]]:
    """(caption, file name) of each plot written. Skipped when the inputs are those of the plots already there
    (a no-op run): matplotlib's import and rendering are most of a no-op run's time."""
    csv = confusion.csv if confusion and confusion.csv.is_file() else None
    old = per_class_old[1] if per_class_old and per_class_new and per_class_old[0] == per_class_new[0] else None
    titles = {CONFUSION_PNG: "Confusion matrix"} if csv else {}
    if per_class_new:
        titles[f"per_class_{per_class_new[0]}.png"] = f"{metric_label(per_class_new[0])} per class"
    key = hashlib.md5(
        json.dumps([per_class_new, old, base, titles], sort_keys=True).encode() + (csv.read_bytes() if csv else b""),
        usedforsecurity=False,
    ).hexdigest()
    stamp = out_dir / ".plots-inputs"
    made = [(title, name) for name, title in titles.items()]
    if stamp.is_file() and stamp.read_text() == key and all((out_dir / name).is_file() for name in titles):
        return made
    out_dir.mkdir(parents=True, exist_ok=True)
    if csv and confusion:
        _confusion(out_dir / CONFUSION_PNG, confusion)
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
    import numpy as np
    import pandas as pd

    pairs = pd.read_csv(confusion.csv)
    actual, predicted = pairs[confusion.actual], pairs[confusion.predicted]
    labels = sorted(set(actual) | set(predicted))
    index = {label: position for position, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(matrix, (actual.map(index).to_numpy(), predicted.map(index).to_numpy()), 1)
    figure, axis = plt.subplots(figsize=(5, 4.5))
    axis.imshow(matrix, cmap="Blues")  # no colour bar: every cell prints its count
    for (row, column), count in np.ndenumerate(matrix):
        if count:
            color = "white" if count > matrix.max() / 2 else "black"
            axis.text(column, row, str(count), ha="center", va="center", fontsize=7, color=color)
    axis.set(xlabel=confusion.predicted, ylabel=confusion.actual, title="Confusion matrix (held-out rows)")
    axis.set_xticks(range(len(labels)), [str(label) for label in labels])
    axis.set_yticks(range(len(labels)), [str(label) for label in labels])
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
