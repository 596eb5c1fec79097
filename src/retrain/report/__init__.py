"""The report people read, on the pull request (CML comment), in the job summary and locally.

Its parts: `data` (what a report holds), `compare` (the numbers against a base revision), `markdown` (the
text) and `plots` (the PNGs beside it). `command` is the engine of `retrain report` (the pull-request report): it
uses these parts, and none of them imports it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from retrain.errors import keep_traceback
from retrain.layout import ERROR_LOG
from retrain.project import Project
from retrain.report.compare import compare, per_class
from retrain.report.data import MetricChange, Report
from retrain.report.markdown import render_markdown
from retrain.report.plots import Confusion, Lines, counts, ordered, write_plots
from retrain.report.stages import stages_now
from retrain.untrusted import escape_markdown, printable

if TYPE_CHECKING:
    from retrain.dvcmetrics import Repo

__all__ = ["Report", "compare", "finish", "stages_now", "write"]


IMAGES_ENV = "RETRAIN_PUBLISH_IMAGES"  # "true": image links in the markdown (public repositories only)
RUN_URL_ENV = "RETRAIN_RUN_URL"  # the CI run, whose artifacts hold the PNGs


def finish(
    report: Report, root: Path, project: Project, output: Path, base_rev: str | None, repo: Repo | None = None
) -> Path:
    """What each stage serves, the numbers against `base_rev`, then the plots and the markdown at `output`. `repo`:
    the DVC repository the caller holds open, for metrics that git does not have (retrain.dvcmetrics)."""
    metric = project.config.primary_metric
    report.metric = metric

    def stages() -> None:
        report.stages = stages_now(root, project.artifact, metric, project.metrics, repo)

    drawn(report, root, "what each stage serves", stages)
    drawn(
        report,
        root,
        "the comparison of numbers",
        lambda: compare(root, report, base_rev, project.metrics, project.data_stats, repo),
    )
    return write(report, root, output, base_rev, project, repo)


def drawn(report: Report, root: Path, part: str, draw: Callable[[], object]) -> None:
    """Draw one part of the report; a part that cannot be drawn becomes one note saying why, and its traceback goes
    to the error log. The report comes after the tag: no part of it may fail a release (or hide one)."""
    try:
        draw()
    except Exception as error:  # deliberately broad, as the docstring says; the traceback is kept
        keep_traceback(error, root / ERROR_LOG)
        reason = printable(str(error).splitlines()[0] if str(error) else "")
        report.notes.append(
            f"⚠️ Not shown: {part} could not be drawn ({type(error).__name__}: {escape_markdown(reason)}; the "
            f"traceback is in {ERROR_LOG}). The run's outcome above stands."
        )


def write(
    report: Report, root: Path, output: Path, base_rev: str | None, project: Project, repo: Repo | None = None
) -> Path:
    """Render the plots beside the report (a `per_class_<name>` metric, a dvc.yaml plot with `template:
    confusion`: whichever the project has) and their figures as tables, then the markdown; return its path."""
    output = output if output.is_absolute() else root / output
    report.images = os.environ.get(IMAGES_ENV) == "true"
    if run_url := os.environ.get(RUN_URL_ENV):
        report.artifact_url = f"{run_url}#artifacts"
    drawn(report, root, "the plots", lambda: _figures(report, root, output, base_rev, project, repo))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_markdown(report))
    return output


def _figures(
    report: Report, root: Path, output: Path, base_rev: str | None, project: Project, repo: Repo | None
) -> None:
    new = per_class(root, None, project.metrics)
    confusions = [Confusion(root / path, actual, predicted) for path, actual, predicted in project.confusion_plots]
    lines = [
        Lines(spec.name, spec.x, tuple((root / path, column) for path, column in spec.y.items()))
        for spec in project.line_plots
        if spec.template in LINE_TEMPLATES
    ]
    old = per_class(root, base_rev, project.metrics, repo) if new and base_rev is not None else None
    if new:
        name, values = new
        before = old[1] if old and old[0] == name else {}
        report.per_class_name = name
        report.per_class = [MetricChange(label, before.get(label), values[label]) for label in ordered(values)]
    report.plots = write_plots(output.parent, confusions, new, old, report.base_label, lines)
    if shown := next((confusion for confusion in confusions if confusion.path.is_file()), None):
        report.confusion_labels, report.confusion = counts(shown)
        report.confusion_axes = (shown.actual, shown.predicted)
        report.confusion_file = str(shown.path.relative_to(root)) if len(confusions) > 1 else ""


LINE_TEMPLATES = ("linear", "simple", "scatter", "smooth")  # DVC's templates of points joined by x (bars are not)


def confusion_counts(confusion: Confusion) -> tuple[list[str], list[list[int]]]:
    """The labels and [actual][predicted] counts of a confusion file (one row per held-out sample); empty
    without it."""
    return counts(confusion)
