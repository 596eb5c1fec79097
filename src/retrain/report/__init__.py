"""The report people read, on the pull request (CML comment), in the job summary and locally.

Its parts: `data` (what a report holds), `compare` (the numbers against a base revision), `markdown` (the
text) and `plots` (the PNGs beside it).
"""

from __future__ import annotations

from pathlib import Path

from retrain import dvcops
from retrain.layout import DVC_YAML
from retrain.project import Project
from retrain.report.compare import compare, per_class
from retrain.report.data import Report
from retrain.report.markdown import render_markdown
from retrain.report.plots import Confusion, write_plots
from retrain.report.stages import stages_now

__all__ = ["Report", "compare", "finish", "stages_now", "write"]


def finish(report: Report, root: Path, project: Project, output: Path, base_rev: str | None) -> Path:
    """What each stage serves, the numbers against `base_rev`, then the plots and the markdown at `output`."""
    metric = project.config.primary_metric
    report.metric = metric
    report.stages = stages_now(root, project.artifact, metric, project.metrics)
    compare(root, report, base_rev, project.metrics, project.data_stats)
    return write(report, root, output, base_rev, project.metrics)


def write(report: Report, root: Path, output: Path, base_rev: str | None, metrics_file: str) -> Path:
    """Render the plots beside the report (a `per_class_<name>` metric, a dvc.yaml plot with `template:
    confusion`: whichever the project has), then the markdown; return the report's path."""
    output = output if output.is_absolute() else root / output
    new = per_class(root, None, metrics_file)
    spec = dvcops.confusion_plot((root / DVC_YAML).read_text()) if (root / DVC_YAML).is_file() else None
    confusion = Confusion(root / spec[0], spec[1], spec[2]) if spec else None
    if new or (confusion and confusion.csv.is_file()):
        old = per_class(root, base_rev, metrics_file) if base_rev is not None else None
        report.plots = write_plots(output.parent, confusion, new, old, report.base_label)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_markdown(report))
    return output
