"""The report people read, on the pull request (CML comment), in the job summary and locally.

Its parts: `data` (what a report holds), `compare` (the numbers against a base revision), `markdown` (the
text) and `plots` (the PNGs beside it).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from retrain.layout import CONFUSION
from retrain.report.compare import compare, per_class
from retrain.report.data import MetricChange, Report
from retrain.report.markdown import render_markdown
from retrain.report.plots import write_plots
from retrain.report.stages import stages_now

__all__ = ["Report", "compare", "stages_now", "write"]


IMAGES_ENV = "RETRAIN_PUBLISH_IMAGES"  # "true": image links in the markdown (public repositories only)
RUN_URL_ENV = "RETRAIN_RUN_URL"  # the CI run, whose artifacts hold the PNGs


def write(report: Report, root: Path, output: Path, base_rev: str | None) -> Path:
    """Render the plots beside the report, then the markdown; return the report's path."""
    output = output if output.is_absolute() else root / output
    report.images = os.environ.get(IMAGES_ENV) == "true"
    if run_url := os.environ.get(RUN_URL_ENV):
        report.artifact_url = f"{run_url}#artifacts"
    if new := per_class(root, None):
        old = (per_class(root, base_rev) if base_rev is not None else None) or {}
        report.per_class = [MetricChange(digit, old.get(digit), new[digit]) for digit in sorted(new, key=int)]
        report.plots = write_plots(output.parent, root / CONFUSION, new, old or None, report.base_label)
    report.confusion = confusion_counts(root / CONFUSION)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_markdown(report))
    return output


def confusion_counts(confusion_csv: Path, size: int = 10) -> list[list[int]]:
    """[actual][predicted] counts of the pipeline's confusion file (one row per held-out sample); [] without it."""
    if not confusion_csv.is_file():
        return []
    matrix = [[0] * size for _ in range(size)]
    with confusion_csv.open(newline="") as rows:
        for row in csv.DictReader(rows):
            actual, predicted = int(row["actual"]), int(row["predicted"])
            if 0 <= actual < size and 0 <= predicted < size:
                matrix[actual][predicted] += 1
    return matrix
