"""The report people read: on the pull request (CML comment), in the job summary, and locally."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from retrain.versioning import GateVerdict

KEY_METRICS = ("accuracy", "f1_macro")
DATA_KEYS = ("rows", "batches", "train_rows", "test_rows")


@dataclass(frozen=True)
class MetricChange:
    name: str
    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        if isinstance(self.old, int | float) and isinstance(self.new, int | float):
            return self.new - self.old
        return None


@dataclass
class Report:
    title: str
    base_label: str  # what the numbers are compared with: "develop", "model@v1.2.0", ...
    headline: str  # one line: released / up to date / gated / would release
    metrics: list[MetricChange] = field(default_factory=list)
    data: list[MetricChange] = field(default_factory=list)
    params: dict[str, tuple] = field(default_factory=dict)
    gate: GateVerdict | None = None
    plots: list[tuple[str, str]] = field(default_factory=list)  # (caption, file name beside the report)
    notes: list[str] = field(default_factory=list)


def _number(value: float | int | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return f"{value:,}"


def _delta(change: MetricChange) -> str:
    delta = change.delta
    if delta is None:
        return "new" if change.old is None else "–"
    if delta == 0:
        return "0"
    return f"{delta:+.4f}" if isinstance(delta, float) else f"{delta:+,}"


def _table(rows: list[MetricChange], base_label: str) -> list[str]:
    lines = [f"| | {base_label} | this run | change |", "|---|---:|---:|---:|"]
    lines += [f"| {row.name} | {_number(row.old)} | {_number(row.new)} | {_delta(row)} |" for row in rows]
    return lines


def render_markdown(report: Report) -> str:
    """GitHub-flavoured markdown; reads well as a PR comment and a job summary."""
    lines = [f"## {report.title}", "", f"**{report.headline}**", ""]
    lines += [f"> {note}" for note in report.notes]
    if report.notes:
        lines.append("")
    if report.metrics:
        lines += ["### Metrics", "", *_table(report.metrics, report.base_label), ""]
    if report.gate is not None:
        mark = "✅" if report.gate.passed else "❌"
        lines += ["### Quality gate", "", f"{mark} {report.gate.reason}", ""]
    if report.params:
        lines += ["### Params changed", "", f"| param | {report.base_label} | this run |", "|---|---:|---:|"]
        lines += [f"| {key} | {old} | {new} |" for key, (old, new) in report.params.items()]
        lines.append("")
    else:
        lines += ["### Params changed", "", f"None since {report.base_label}.", ""]
    if report.data:
        lines += ["### Data", "", *_table(report.data, report.base_label), ""]
    if report.plots:
        lines += ["### Plots", ""]
        lines += [f"![{caption}](./{name})" for caption, name in report.plots]
        lines.append("")
    return "\n".join(lines)


def write_plots(out_dir: Path, confusion_csv: Path, per_class_new: dict, per_class_old: dict | None, base: str):
    """PNG plots beside the report: the confusion matrix and per-digit F1 against the base.

    Skipped when the inputs are those of the plots already there (a no-op run): matplotlib's import and
    rendering are most of a no-op run's time.
    """
    import hashlib
    import json

    key = hashlib.md5(
        json.dumps([per_class_new, per_class_old, base], sort_keys=True).encode()
        + (confusion_csv.read_bytes() if confusion_csv.is_file() else b""),
        usedforsecurity=False,
    ).hexdigest()
    stamp = out_dir / ".plots-inputs"
    expected = [name for name in ("confusion.png", "per_class_f1.png") if (out_dir / name).is_file()]
    if stamp.is_file() and stamp.read_text() == key and expected:
        titles = {"confusion.png": "Confusion matrix", "per_class_f1.png": "F1 per digit"}
        return [(titles[name], name) for name in expected]
    made = _render_plots(out_dir, confusion_csv, per_class_new, per_class_old, base)
    stamp.write_text(key)
    return made


def _import_pyplot():
    import matplotlib

    matplotlib.use("Agg")  # headless: CI runners have no display
    import matplotlib.pyplot as plt

    return plt


def preload_plotting() -> None:
    """Import matplotlib in a background thread (most of a report's time): call it while other processes work.

    The import runs while this process waits for stage commands, once the stage host (if any) has its own
    imports done, so that the two do not compete for the CPU; the report's own import then finds it done (or
    waits for it, under the import lock).
    """
    import threading

    from retrain import stagehost

    def preload() -> None:
        stagehost.wait_until_warm(timeout=30.0)
        _import_pyplot()
        import pandas  # noqa: F401 (imported for _render_plots, which reads confusion.csv with it)

    threading.Thread(target=preload, name="preload-matplotlib", daemon=True).start()


def _render_plots(out_dir: Path, confusion_csv: Path, per_class_new: dict, per_class_old: dict | None, base: str):
    plt = _import_pyplot()
    import numpy as np
    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    made: list[tuple[str, str]] = []
    if confusion_csv.is_file():
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
        figure.savefig(out_dir / "confusion.png", dpi=100)
        plt.close(figure)
        made.append(("Confusion matrix", "confusion.png"))
    if per_class_new:
        digits = sorted(per_class_new, key=int)
        figure, axis = plt.subplots(figsize=(6, 3.5))
        positions = np.arange(len(digits))
        width = 0.4
        if per_class_old:
            axis.bar(positions - width / 2, [per_class_old.get(d, 0) for d in digits], width, label=base)
        axis.bar(
            positions + (width / 2 if per_class_old else 0),
            [per_class_new[d] for d in digits],
            width,
            label="this run",
        )
        axis.set(xlabel="digit", ylabel="F1", title="F1 per digit", ylim=(0, 1.05))
        axis.set_xticks(positions, digits)
        axis.legend(loc="lower right")
        figure.tight_layout()
        figure.savefig(out_dir / "per_class_f1.png", dpi=100)
        plt.close(figure)
        made.append(("F1 per digit", "per_class_f1.png"))
    return made
