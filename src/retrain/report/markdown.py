"""The report as GitHub-flavoured markdown: reads well as a pull-request comment, a job summary and a file."""

from __future__ import annotations

from retrain.report.data import MetricChange, Report, metric_label
from retrain.untrusted import code_span, escape_markdown, is_plain_name, markdown_name

# Names in a report come from the project's files (metrics, params, plots, dvc.lock), which a pull request writes:
# each is shown through `markdown_name`, so a hostile one renders literally (no link, mention, HTML or table cell).


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
    lines += [
        f"| {markdown_name(row.name, True)} | {_number(row.old)} | {_number(row.new)} | {_delta(row)} |" for row in rows
    ]
    return lines


def _stages(report: Report) -> list[str]:
    """What each stage serves now, and the command that would serve this run's release in the last stage."""
    if not report.stages:
        return []
    lines = [
        "### Serving now",
        "",
        f"| stage | release | since | {markdown_name(report.metric, True)} |",
        "|---|---|---|---:|",
    ]
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
    lines = [f"## {report.title}", "", f"**{_quoting(report.headline, report.metric)}**", ""]
    lines += [f"> {note}" for note in report.notes]
    if report.notes:
        lines.append("")
    lines += _stages(report)
    if report.metrics:
        lines += ["### Metrics", "", *_table(report.metrics, report.base_label), ""]
    if report.gate is not None:
        mark = "✅" if report.gate.passed else "❌"
        lines += ["### Quality gate", "", f"{mark} {_quoting(report.gate.reason, report.gate.metric)}", ""]
    if report.params:
        lines += ["### Params changed", "", f"| param | {report.base_label} | this run |", "|---|---:|---:|"]
        lines += [
            f"| {markdown_name(key, True)} | {markdown_name(str(old), True)} | {markdown_name(str(new), True)} |"
            for key, (old, new) in report.params.items()
        ]
        lines.append("")
    else:
        lines += ["### Params changed", "", f"None since {report.base_label}.", ""]
    if report.inputs:
        lines += ["### Inputs changed", "", f"Against {report.base_label} (from `dvc.lock`):", ""]
        lines += [f"- {code_span(path)}" for path in report.inputs]
        lines.append("")
    if report.data:
        lines += ["### Data", "", *_table(report.data, report.base_label), ""]
    if report.per_class:
        title = f"{markdown_name(metric_label(report.per_class_name))} per class"  # the per-class plot's caption too
        lines += [f"### {title}", "", *_table(report.per_class, report.base_label), ""]
    if report.confusion:
        source = f": {code_span(report.confusion_file)}" if report.confusion_file else ""
        lines += [
            f"### Confusion matrix{source} (this run, held-out rows)",
            "",
            *_confusion(report.confusion_labels, report.confusion, report.confusion_axes),
            "",
        ]
    if report.plots and report.images:
        lines += ["### Plots", ""]
        lines += [f"![{caption}](./{name})" for caption, name in report.plots]
        lines.append("")
    elif report.plots:
        names = ", ".join(code_span(name) for _, name in report.plots)
        where = (
            f"in the [workflow artifact]({report.artifact_url}) `{ARTIFACT}`" if report.artifact_url else "beside it"
        )
        lines += [f"Plots ({names}): {where}; not uploaded anywhere else.", ""]
    return "\n".join(lines)


ARTIFACT = "report-plots"  # the name the workflows upload the PNGs under (actions/upload-artifact)


def _confusion(labels: list[str], matrix: list[list[int]], axes: tuple[str, str]) -> list[str]:
    labels = [markdown_name(label, True) for label in labels]
    down, across = (markdown_name(name, True) for name in axes)
    lines = [f"| {down} \\ {across} | " + " | ".join(labels) + " |"]
    lines.append("|---:|" + "---:|" * len(labels))
    for actual, row in enumerate(matrix):
        cells = [
            f"**{count}**" if actual == predicted else (str(count) if count else "·")
            for predicted, count in enumerate(row)
        ]
        lines.append(f"| {labels[actual]} | " + " | ".join(cells) + " |")
    return lines


def _quoting(text: str, name: str | None) -> str:
    """Engine text quoting an outside name: as it is while the name is plain, else escaped whole."""
    return text if not name or is_plain_name(name) else escape_markdown(text)
