"""`retrain history --html` on the third pipeline (DVC's get-started layout), looked at in headless Chromium with the
network off (issue 25's last line): its metrics are dvclive's nested ones in the cached folder eval/, in no git tree,
so the trend, the release rows and the gated run's mark hold numbers read through DVC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dvcway import ARTIFACT, METRICS
from tests.helpers import Project
from tests.helpers.browser import by_tag, check_common, rows_of

pytestmark = pytest.mark.slow


def ok(project: Project, *args: str) -> str:
    result = project.retrain(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def evaluated(project: Project) -> float:
    return json.loads((project.root / METRICS).read_text())["avg_prec"]["test"]


def test_the_dvcway_history_page_shows_dvclive_metrics_a_gated_run_and_prod(
    dvcway_released: Project, tmp_path: Path
) -> None:
    """Two releases, a gated run, prod promoted twice and rolled back: the page says each with the numbers dvclive
    wrote, and GTO agrees on who holds prod."""
    project = dvcway_released
    first = evaluated(project)
    project.set_param("featurize", "max_features", 10)
    ok(project, "run", "--push")
    second = evaluated(project)
    project.set_param("train", "n_est", 1)
    assert project.retrain("run").returncode == 3, "one tree is gated"
    gated, gated_value = project.run_summary()["commit"], evaluated(project)
    for version in ("v1.0.0", "v1.0.1"):
        ok(project, "promote", version, "--stage", "prod")
    ok(project, "rollback", "--stage", "prod")
    ok(project, "history", "--html", "out")

    found = check_common(project.root / "out/index.html", tmp_path / "dvcway.png")

    releases = rows_of(found, "releases")
    assert [row.attrs["data-version"] for row in releases] == ["v1.0.1", "v1.0.0"]
    assert f"{second:.4f}" in releases[0].content and "featurize.max_features: 3 → 10" in releases[0].content
    assert f"{first:.4f}" in releases[1].content and "first release" in releases[1].content
    trend = by_tag(found, "svg", id="trend-0")[0]
    assert trend.attrs["data-metric"] == "avg_prec.test"
    start = found.index(trend)
    dots = [float(e.attrs["data-value"]) for e in found[start:] if e.tag == "circle"][:2]
    assert dots == pytest.approx([first, second])
    cross = next(e for e in found[start:] if e.tag == "path" and e.attrs.get("class") == "gated")
    assert float(cross.attrs["data-value"]) == pytest.approx(gated_value)
    assert any(gated[:8] in e.content for e in by_tag(found, "p", **{"class": "gated-run"}))
    prod = by_tag(found, "svg", **{"class": "stage", "data_stage": "prod"})[0]
    spans = [e.attrs["data-version"] for e in found[found.index(prod) :] if e.tag == "rect"][:3]
    assert spans == ["v1.0.0", "v1.0.1", "v1.0.0"]
    assert ok(project, "which", "--stage", "prod").strip() == "v1.0.0", "GTO agrees"
    assert f"{ARTIFACT}@v1.0.1" in project.origin_tags()
