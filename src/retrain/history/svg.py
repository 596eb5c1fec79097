"""Inline SVG charts for the history page: a metric against the release, and a stage's serving spans against time.

Every text drawn comes from outside (metric names, versions, stage names): it goes through `esc`, always. Numbers
are formatted here, never taken as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from retrain.history.model import Point, Serving

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
MAX_LABELS = 12  # x-axis labels on a chart: at a thousand releases, every Nth


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def colour(index: int) -> str:
    return COLOURS[index % len(COLOURS)]


@dataclass(frozen=True)
class Frame:
    """A chart's drawing area inside its margins, and the value range mapped onto its height."""

    width: int
    height: int
    left: int = 56
    right: int = 16
    top: int = 12
    bottom: int = 36
    low: float = 0.0
    high: float = 1.0

    def y(self, value: float) -> float:
        span = (self.high - self.low) or 1.0
        return self.top + (self.height - self.top - self.bottom) * (1 - (value - self.low) / span)

    def x(self, index: int, count: int) -> float:
        inner = self.width - self.left - self.right
        return self.left + (inner * index / (count - 1) if count > 1 else inner / 2)


def _ticks(frame: Frame) -> list[str]:
    parts = []
    for step in range(5):
        value = frame.low + (frame.high - frame.low) * step / 4
        y = frame.y(value)
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.4g}</text>')
    return parts


def trend_chart(metric: str, points: list[Point], gated: float | None, chart_id: str, width: int = 720) -> str:
    """The metric per release (a line with a dot each), the gate's limit as a dashed step where the points carry
    one (the worst value the next release could have had), and a gated run's value as a red cross after the last."""
    values = [point.value for point in points] + [p.limit for p in points if p.limit is not None]
    values += [gated] if gated is not None else []
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (high - low) * 0.08 or abs(high) * 0.05 or 0.5
    frame = Frame(width, 260 if any(p.limit is not None for p in points) else 200, low=low - pad, high=high + pad)
    count = len(points) + (1 if gated is not None else 0)
    parts = [
        f'<svg id="{esc(chart_id)}" class="trend" data-metric="{esc(metric)}" width="{width}" height="{frame.height}" '
        f'viewBox="0 0 {width} {frame.height}" role="img" aria-label="{esc(metric)} per release">',
        *_ticks(frame),
    ]
    line = " ".join(f"{frame.x(i, count):.1f},{frame.y(p.value):.1f}" for i, p in enumerate(points))
    parts.append(f'<polyline class="value" points="{line}"/>')
    steps = [
        f"{frame.x(i + 1, count):.1f},{frame.y(p.limit):.1f}"
        for i, p in enumerate(points)
        if p.limit is not None and i + 1 < count
    ]
    if steps:
        parts.append(f'<polyline class="limit" points="{" ".join(steps)}"/>')
    every = max(1, -(-len(points) // MAX_LABELS))
    for i, point in enumerate(points):
        x, y = frame.x(i, count), frame.y(point.value)
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" data-version="{esc(point.version)}" data-value="{point.value!r}">'
            f"<title>{esc(point.version)}: {point.value:.4f}</title></circle>"
        )
        if i % every == 0 or i == len(points) - 1:
            parts.append(f'<text x="{x:.1f}" y="{frame.height - 16}" text-anchor="middle">{esc(point.version)}</text>')
    if gated is not None:
        x, y = frame.x(count - 1, count), frame.y(gated)
        parts.append(
            f'<path class="gated" d="M{x - 5:.1f},{y - 5:.1f}L{x + 5:.1f},{y + 5:.1f}M{x - 5:.1f},{y + 5:.1f}'
            f'L{x + 5:.1f},{y - 5:.1f}" data-value="{gated!r}"><title>gated: {gated:.4f}</title></path>'
        )
        parts.append(f'<text x="{x:.1f}" y="{frame.height - 16}" text-anchor="middle" class="gated-label">gated</text>')
    parts.append("</svg>")
    return "".join(parts)


def _minute(moment: str) -> str:
    return moment[:16].replace("T", " ")


def _seconds(moment: str) -> float:
    return datetime.fromisoformat(moment).timestamp()


def stage_chart(
    stage: str, spans: list[Serving], start: str, end: str, palette: dict[str, int], width: int = 720
) -> str:
    """A stage's serving spans as bars on a time axis from `start` to `end` (ISO times), one colour per version."""
    frame = Frame(width, 70, left=16, right=16, top=8, bottom=22)
    first, now = _seconds(start), _seconds(end)
    last = now + max((now - first) * 0.1, 60.0)  # room after the latest change: what serves now shows as a bar
    total = last - first
    inner = width - frame.left - frame.right

    def x(moment: str | None) -> float:
        at = _seconds(moment) if moment else last
        return frame.left + inner * (at - first) / total

    parts = [
        f'<svg class="stage" data-stage="{esc(stage)}" width="{width}" height="{frame.height}" '
        f'viewBox="0 0 {width} {frame.height}" role="img" aria-label="{esc(stage)}: which release served it">'
    ]
    for span in spans:
        left, right = x(span.start), x(span.end)
        bar = max(right - left, 2.0)
        parts.append(
            f'<rect x="{left:.1f}" y="{frame.top}" width="{bar:.1f}" height="28"'
            f' fill="{colour(palette.get(span.version, 0))}"'
            f' data-version="{esc(span.version)}" data-start="{esc(span.start)}" data-end="{esc(span.end or "now")}">'
            f"<title>{esc(span.version)}: {esc(span.start)} to {esc(span.end or 'now')}</title></rect>"
        )
        if bar > 40:
            parts.append(f'<text x="{left + 4:.1f}" y="{frame.top + 19}" class="on-bar">{esc(span.version)}</text>')
    bottom = frame.height - 4
    parts.append(f'<text x="{frame.left}" y="{bottom}">{esc(_minute(start))}</text>')
    parts.append(f'<text x="{width - frame.right}" y="{bottom}" text-anchor="end">{esc(_minute(end))}</text>')
    parts.append("</svg>")
    return "".join(parts)
