"""The report as GitHub-flavoured markdown: reads well as a pull-request comment, a job summary and a file."""

from __future__ import annotations

from retrain.report.data import MetricChange, Report, metric_label


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


def _stages(report: Report) -> list[str]:
    """What each stage serves now, and the command that would serve this run's release in the last stage."""
    if not report.stages:
        return []
    lines = ["### Serving now", "", f"| stage | release | since | {report.metric} |", "|---|---|---|---:|"]
    for now in report.stages:
        lines.append(f"| {now.stage} | {now.release or '–'} | {now.since or ''} | {_number(now.metric)} |")
    lines.append("")
    if report.candidate:
        last = report.stages[-1]
        version = report.candidate.split("@", 1)[-1]
        lines += [
            f"This run: **{report.candidate}**; {last.stage} serves {last.release or 'nothing yet'}. To serve it: "
            f"`retrain promote {version} --stage {last.stage}` (or the *promote* workflow).",
            "",
        ]
    return lines


def render_markdown(report: Report) -> str:
    """GitHub-flavoured markdown; reads well as a PR comment and a job summary."""
    lines = [f"## {report.title}", "", f"**{report.headline}**", ""]
    lines += [f"> {note}" for note in report.notes]
    if report.notes:
        lines.append("")
    lines += _stages(report)
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
    if report.per_class:
        title = f"{metric_label(report.per_class_name)} per class"  # the per-class plot's caption too
        lines += [f"### {title}", "", *_table(report.per_class, report.base_label), ""]
    if report.confusion:
        lines += [
            "### Confusion matrix (this run, held-out rows)",
            "",
            *_confusion(report.confusion_labels, report.confusion),
            "",
        ]
    if report.plots and report.images:
        lines += ["### Plots", ""]
        lines += [f"![{caption}](./{name})" for caption, name in report.plots]
        lines.append("")
    elif report.plots:
        names = ", ".join(f"`{name}`" for _, name in report.plots)
        where = (
            f"in the [workflow artifact]({report.artifact_url}) `{ARTIFACT}`" if report.artifact_url else "beside it"
        )
        lines += [f"Plots ({names}): {where}; not uploaded anywhere else.", ""]
    return "\n".join(lines)


ARTIFACT = "report-plots"  # the name the workflows upload the PNGs under (actions/upload-artifact)


def _confusion(labels: list[str], matrix: list[list[int]]) -> list[str]:
    lines = ["| actual \\ predicted | " + " | ".join(labels) + " |"]
    lines.append("|---:|" + "---:|" * len(labels))
    for actual, row in enumerate(matrix):
        cells = [
            f"**{count}**" if actual == predicted else (str(count) if count else "·")
            for predicted, count in enumerate(row)
        ]
        lines.append(f"| {labels[actual]} | " + " | ".join(cells) + " |")
    return lines
