"""The report's markdown: tables, gate verdict, notes and plots read well on GitHub."""

from __future__ import annotations

from retrain.report import MetricChange, Report, render_markdown
from retrain.versioning import gate


def test_markdown_has_metrics_table_gate_and_plots() -> None:
    report = Report(
        title="Retrain report",
        base_label="model@v1.0.0",
        headline="released model@v1.1.0",
        metrics=[MetricChange("accuracy", 0.95, 0.9612)],
        data=[MetricChange("rows", 1797, 2197)],
        params={"train.C": (1.0, 0.5)},
        gate=gate("accuracy", 0.9612, 0.95, 0.02),
        plots=[("Confusion matrix", "confusion.png")],
        notes=["remote not reachable"],
    )
    text = render_markdown(report)
    assert "| accuracy | 0.9500 | 0.9612 | +0.0112 |" in text
    assert "| rows | 1,797 | 2,197 | +400 |" in text
    assert "| train.C | 1.0 | 0.5 |" in text
    assert "✅ gate passed" in text
    assert "![Confusion matrix](./confusion.png)" in text
    assert "> remote not reachable" in text
