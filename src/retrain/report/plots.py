"""PNG plots beside the report: the confusion matrix, and per-digit F1 against the base (or alone, with none)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

TITLES = {"confusion.png": "Confusion matrix", "per_class_f1.png": "F1 per digit"}


def write_plots(
    out_dir: Path, confusion_csv: Path, per_class_new: dict, per_class_old: dict | None, base: str
) -> list[tuple[str, str]]:
    """(caption, file name) of each plot written. Skipped when the inputs are those of the plots already there
    (a no-op run): matplotlib's import and rendering are most of a no-op run's time."""
    key = hashlib.md5(
        json.dumps([per_class_new, per_class_old, base], sort_keys=True).encode()
        + (confusion_csv.read_bytes() if confusion_csv.is_file() else b""),
        usedforsecurity=False,
    ).hexdigest()
    stamp = out_dir / ".plots-inputs"
    present = [name for name in TITLES if (out_dir / name).is_file()]
    if stamp.is_file() and stamp.read_text() == key and present:
        return [(TITLES[name], name) for name in present]
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    if confusion_csv.is_file():
        _confusion(out_dir / "confusion.png", confusion_csv)
        made.append((TITLES["confusion.png"], "confusion.png"))
    if per_class_new:
        _per_class(out_dir / "per_class_f1.png", per_class_new, per_class_old, base)
        made.append((TITLES["per_class_f1.png"], "per_class_f1.png"))
    stamp.write_text(key)
    return made


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # headless: CI runners have no display
    import matplotlib.pyplot as plt

    return plt


def _confusion(target: Path, confusion_csv: Path) -> None:
    import numpy as np
    import pandas as pd

    plt = _pyplot()
    pairs = pd.read_csv(confusion_csv)
    matrix = np.zeros((10, 10), dtype=np.int64)
    np.add.at(matrix, (pairs["actual"].to_numpy(), pairs["predicted"].to_numpy()), 1)
    figure, axis = plt.subplots(figsize=(5, 4.5))
    axis.imshow(matrix, cmap="Blues")  # no colour bar: every cell prints its count
    for (row, column), count in np.ndenumerate(matrix):
        if count:
            color = "white" if count > matrix.max() / 2 else "black"
            axis.text(column, row, str(count), ha="center", va="center", fontsize=7, color=color)
    axis.set(xlabel="predicted digit", ylabel="actual digit", title="Confusion matrix (held-out rows)")
    axis.set_xticks(range(10))
    axis.set_yticks(range(10))
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    plt.close(figure)


def _per_class(target: Path, new: dict, old: dict | None, base: str) -> None:
    """Bars of this run beside the base's; with no base, this run alone, and the title says so."""
    import numpy as np

    plt = _pyplot()
    digits = sorted(new, key=int)
    positions = np.arange(len(digits))
    width = 0.4 if old else 0.6
    figure, axis = plt.subplots(figsize=(6, 3.5))
    if old:
        axis.bar(positions - width / 2, [old.get(d, 0) for d in digits], width, label=base)
    axis.bar(positions + (width / 2 if old else 0), [new[d] for d in digits], width, label="this run")
    title = "F1 per digit" if old else f"F1 per digit: this run only ({base}, nothing to compare)"
    axis.set(xlabel="digit", ylabel="F1", title=title, ylim=(0, 1.05))
    axis.set_xticks(positions, digits)
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    plt.close(figure)
