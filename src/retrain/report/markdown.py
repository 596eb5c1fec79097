"""The report as GitHub-flavoured markdown: reads well as a pull-request comment, a job summary and a file."""

from __future__ import annotations

from retrain.report.data import MetricChange, Report


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
    if report.inputs:
        lines += ["### Inputs changed", "", f"Against {report.base_label} (from `dvc.lock`):", ""]
        lines += [f"- `{path}`" for path in report.inputs]
        lines.append("")
    if report.data:
        lines += ["### Data", "", *_table(report.data, report.base_label), ""]
    if report.plots:
        lines += ["### Plots", ""]
        lines += [f"![{caption}](./{name})" for caption, name in report.plots]
        lines.append("")
    return "\n".join(lines)
