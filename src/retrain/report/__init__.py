"""The report people read, on the pull request (CML comment), in the job summary and locally.

Its parts: `data` (what a report holds), `compare` (the numbers against a base revision), `markdown` (the
text) and `plots` (the PNGs beside it).
"""

from __future__ import annotations

from pathlib import Path

from retrain.layout import CONFUSION
from retrain.report.compare import compare, per_class
from retrain.report.data import Report
from retrain.report.markdown import render_markdown
from retrain.report.plots import write_plots
from retrain.report.stages import stages_now

__all__ = ["Report", "compare", "stages_now", "write"]


def write(report: Report, root: Path, output: Path, base_rev: str | None) -> Path:
    """Render the plots beside the report, then the markdown; return the report's path."""
    output = output if output.is_absolute() else root / output
    if new := per_class(root, None):
        old = per_class(root, base_rev) if base_rev is not None else None
        report.plots = write_plots(output.parent, root / CONFUSION, new, old, report.base_label)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_markdown(report))
    return output
