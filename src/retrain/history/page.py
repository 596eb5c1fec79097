"""The history page: one self-contained HTML file (inline CSS and SVG; no script, font, image or link to fetch),
so it opens from a file or a workflow artifact. Its Content-Security-Policy forbids any request anyway.

Everything shown from the history passes through `esc` (html.escape): notes, metric and stage names, pull request
titles and tag messages come from outside. No value becomes a URL: the CI run is shown as text, not a link.
"""

from __future__ import annotations

from retrain.history.model import GatedRuns, History, Release, StageAction, StageHistory
from retrain.history.svg import colour, esc, stage_chart, trend_chart

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1200px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 8px 0; } th, td { border: 1px solid #ddd; padding: 3px 6px;
vertical-align: top; text-align: left; } th { background: #f4f4f4; } td.num { text-align: right; }
code { font-size: 12px; } .muted { color: #777; } .note { white-space: pre-wrap; max-width: 280px; }
.badge { background: #b00; color: #fff; border-radius: 3px; padding: 0 4px; font-size: 11px; }
svg text { font-size: 11px; fill: #444; } svg .grid { stroke: #eee; } svg .value { fill: none; stroke: #1f77b4;
stroke-width: 2; } svg circle { fill: #1f77b4; } svg .limit { fill: none; stroke: #b00; stroke-dasharray: 5 4; }
svg .gated { stroke: #b00; stroke-width: 2.5; } svg .gated-label { fill: #b00; }
svg .on-bar { fill: #fff; font-weight: bold; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; } figure { margin: 0; } figcaption { font-weight: bold; }
"""


def _text(value: object | None, missing: str = "–") -> str:
    return esc(value) if value not in (None, "") else f'<span class="muted">{missing}</span>'


def _trends(history: History) -> list[str]:
    gated = history.gated.known[-1].value if history.gated.known else None
    gate = history.gate
    out = ['<section id="trends"><h2>Trends</h2>']
    if not history.trends:
        out.append("<p>No release has metrics yet.</p>")
    out.append('<div class="charts">')
    for number, trend in enumerate(history.trends):
        caption = esc(trend.metric) + (" (primary metric)" if trend.primary else "")
        out.append(f"<figure><figcaption>{caption}</figcaption>")
        width = 1100 if trend.primary else 540
        out.append(trend_chart(trend.metric, trend.points, gated if trend.primary else None, f"trend-{number}", width))
        if trend.primary:
            better = "Higher" if gate.direction == "higher" else "Lower"
            out.append(
                f'<p class="muted">{better} is better. Dashed red: the gate\'s limit, the worst value each '
                f"release could have had against the release before it (release.max_regression {gate.max_regression!r}"
                f", {esc(gate.threshold)}).</p>"
            )
        out.append("</figure>")
    out.append("</div></section>")
    return out


def _release_row(release: Release, metrics: list[str]) -> str:
    bump = esc(release.bump.value) if release.bump else "first"
    reasons = ", ".join(esc(reason) for reason in release.reasons)
    params = "<br>".join(f"<code>{esc(p.name)}</code>: {_text(p.old)} → {_text(p.new)}" for p in release.params_changed)
    prs = "<br>".join(f"#{pr.number} {_text(pr.title, 'no title')}" for pr in release.pull_requests)
    values = "".join(
        f'<td class="num metric">{release.metrics[name]:.4f}</td>' if name in release.metrics else "<td>–</td>"
        for name in metrics
    )
    stages = ", ".join(esc(held.stage) for held in release.stages)
    badge = ' <span class="badge">deregistered</span>' if release.deregistered else ""
    data = (
        f'<code title="{esc(release.data_hash)}">{esc(release.data_hash[:12])}</code>'
        if release.data_hash
        else _text(None)
    )
    cells = [
        f"<td><b>{esc(release.version)}</b>{badge}</td>",
        f"<td>{esc(release.date[:16].replace('T', ' '))}</td>",
        f'<td class="bump">{bump}</td><td class="reason">{reasons}</td>',
        f'<td class="num rows">{f"{release.rows:,}" if release.rows is not None else _text(None, "not kept")}</td>',
        values,
        f"<td>{data}</td><td>{params or _text(None, 'none')}</td>",
        f'<td><code title="{esc(release.commit)}">{esc(release.commit[:8])}</code></td>',
        f'<td class="note">{_text(release.note, "")}</td><td>{_text(release.run_url, "")}</td>',
        f"<td>{prs or _text(None, 'none seen')}</td><td>{stages}</td>",
    ]
    return f'<tr data-version="{esc(release.version)}">{"".join(cells)}</tr>'


def _releases(history: History) -> list[str]:
    metrics = [trend.metric for trend in history.trends]
    head = "".join(f"<th>{esc(name)}</th>" for name in metrics)
    out = [
        '<section><h2>Releases</h2><table id="releases"><thead><tr><th>version</th><th>date (UTC)</th><th>bump</th>'
        f"<th>reason</th><th>rows</th>{head}<th>data</th><th>params changed</th><th>code commit</th><th>note</th>"
        "<th>CI run</th><th>pull requests</th><th>serves now</th></tr></thead><tbody>",
        *(_release_row(release, metrics) for release in history.releases),
        "</tbody></table>",
    ]
    if not history.releases:
        out.append("<p>No release yet.</p>")
    return [*out, "</section>"]


def _event_rows(stage: StageHistory) -> str:
    rows = []
    for event in stage.events:
        if event.action is StageAction.UNASSIGN:
            continue  # the promotion or rollback that made it is listed; the tag is in --json
        rows.append(
            f'<tr data-action="{esc(event.action)}" data-version="{esc(event.version or "")}">'
            f"<td>{esc(event.at[:19].replace('T', ' '))}</td><td>{esc(event.action)}</td>"
            f"<td>{_text(event.version, 'no release')}</td><td>{_text(event.previous, 'none')}</td>"
            f'<td>{_text(event.by, "unknown")}</td><td class="note">{_text(event.note, "")}</td>'
            f"<td>{_text(event.run_url, '')}</td><td><code>{esc(event.tag)}</code></td></tr>"
        )
    return "".join(rows)


def _stages(history: History) -> list[str]:
    out = ['<section id="stages"><h2>Stages</h2>']
    if not history.stages:
        out.append("<p>No release was promoted to a stage yet.</p>")
        return [*out, "</section>"]
    moments = [event.at for stage in history.stages for event in stage.events]
    start, end = min(moments), max(moments)
    palette = {release.version: index for index, release in enumerate(reversed(history.releases))}
    retired = {release.version for release in history.releases if release.deregistered}
    for stage in history.stages:
        now = esc(stage.now) if stage.now else "nothing"
        out.append(f'<h3>{esc(stage.stage)}: <span class="now">{now}</span> serves now</h3>')
        out.append(stage_chart(stage.stage, stage.spans, start, end, palette, 1100))
        served = dict.fromkeys(span.version for span in stage.spans)
        legend = " ".join(
            f'<span style="color:{colour(palette.get(version, 0))}">■</span> {esc(version)}'
            + (' <span class="badge">deregistered</span>' if version in retired else "")
            for version in served
        )
        out.append(f"<p>{legend}</p>")
        out.append(
            f'<table class="events" data-stage="{esc(stage.stage)}"><thead><tr><th>when (UTC)</th><th>action</th>'
            "<th>release</th><th>replaced</th><th>by</th><th>why</th><th>CI run</th><th>tag</th></tr></thead>"
            f"<tbody>{_event_rows(stage)}</tbody></table>"
        )
    for gone in history.deregistrations:
        out.append(
            f'<p class="deregistered">{esc(gone.version)} deregistered at {esc(gone.at[:19].replace("T", " "))} by '
            f"{_text(gone.by, 'unknown')} (<code>{esc(gone.tag)}</code>)</p>"
        )
    return [*out, "</section>"]


def _gated(gated: GatedRuns, metric: str) -> list[str]:
    out = ['<section id="gated"><h2>Gated runs</h2>', f"<p>{esc(gated.note)}</p>"]
    for run in gated.known:
        value = f"{run.value:.4f}" if run.value is not None else "not in the metrics file"
        out.append(
            f'<p class="gated-run">Gated: commit <code>{esc(run.commit[:8])}</code>, {esc(metric)} {value} '
            f"({esc(run.recorded)}).</p>"
        )
    return [*out, "</section>"]


def render(history: History) -> str:
    """The whole page, as text."""
    latest = history.releases[0] if history.releases else None
    summary = (
        f"{len(history.releases)} release(s); latest {esc(latest.version)} of {esc(latest.date[:10])}."
        if latest
        else "No release yet."
    )
    unknown = "".join(f"<li>{esc(line)}</li>" for line in history.unknown)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Release history: {esc(history.artifact)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Release history: {esc(history.artifact)}</h1><p>{summary} Primary metric: "
        f"<b>{esc(history.gate.metric)}</b> ({esc(history.gate.direction)} is better).</p>",
        *_trends(history),
        *_releases(history),
        *_stages(history),
        *_gated(history.gated, history.gate.metric),
        f'<section id="unknown"><h2>What this page cannot know</h2><ul>{unknown}</ul></section>',
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
