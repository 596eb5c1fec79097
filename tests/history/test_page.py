"""`retrain history --html` looked at as a person would: rendered by headless Chromium with the network off, its
screenshot non-blank, and the trend, the releases table and the stage timeline holding the values the tags and the
committed metrics say, on the digits example and the regression pipeline of tests/byop (the third pipeline, in DVC's
own layout: tests/dvcway/test_dvcway_page.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, Project, doc_block
from tests.helpers.browser import by_tag, check_common, look, page_requests, rows_of

pytestmark = pytest.mark.slow

HOSTILE = '<img src="http://evil.example/x.png" onerror="alert(1)"> & </table><b>'


def ok(project: Project, *args: str) -> str:
    result = project.retrain(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def metrics_at(project: Project, rev: str, path: str) -> dict:
    return json.loads(project.git("show", f"{rev}:{path}"))


def test_the_digits_history_page_shows_trend_releases_and_stages(released: Project, tmp_path: Path) -> None:
    """Three releases, prod promoted twice and rolled back, a gated run: the page says each, and the README's
    commands run as written; the screenshot is the README's (docs/history.png)."""
    ok(released, "promote", "v1.0.0", "--stage", "prod", "--note", HOSTILE)
    ok(released, "promote", "v1.1.0", "--stage", "prod")
    ok(released, "rollback", "--stage", "prod", "--note", "misreads sevens")
    released.add_batch(rows=300, seed=9, label_noise=0.6)
    assert released.retrain("run").returncode == 3, "the noisy batch is gated"
    gated = released.run_summary()["commit"]
    result = released.sh("bash", "-c", "set -euo pipefail\n" + doc_block("README.md", "history"), check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    found = check_common(released.root / "reports/history/index.html", tmp_path / "history.png")

    tags = released.tags()
    releases = rows_of(found, "releases")
    assert [row.attrs["data-version"] for row in releases] == ["v1.1.1", "v1.1.0", "v1.0.0"]
    for row in releases:
        accuracy = metrics_at(released, f"model@{row.attrs['data-version']}", "metrics/metrics.json")["accuracy"]
        assert f"{accuracy:.4f}" in row.content and tags[f"model@{row.attrs['data-version']}"][:8] in row.content
    newest, middle, first = (row.content for row in releases)
    assert "patch" in newest and "params" in newest and "train.C: 1.0 → 0.5" in newest
    assert "minor" in middle and "data" in middle and "2,097" in middle
    assert "first release" in first and "1,797" in first and "prod" in first

    trend = by_tag(found, "svg", id="trend-0")[0]
    assert trend.attrs["data-metric"] == "accuracy"
    start = found.index(trend)
    dots = [e for e in found[start:] if e.tag == "circle"][:3]
    assert [(dot.attrs["data-version"], float(dot.attrs["data-value"])) for dot in dots] == [
        (version, metrics_at(released, f"model@{version}", "metrics/metrics.json")["accuracy"])
        for version in ("v1.0.0", "v1.1.0", "v1.1.1")
    ]
    cross = next(e for e in found[start:] if e.tag == "path" and e.attrs.get("class") == "gated")
    assert float(cross.attrs["data-value"]) == metrics_at(released, gated, "metrics/metrics.json")["accuracy"]
    assert any(gated[:8] in e.content for e in by_tag(found, "p", **{"class": "gated-run"}))

    prod = by_tag(found, "svg", **{"class": "stage", "data_stage": "prod"})[0]
    spans = [e.attrs["data-version"] for e in found[found.index(prod) :] if e.tag == "rect"][:3]
    assert spans == ["v1.0.0", "v1.1.0", "v1.0.0"]
    events = [e for e in found if e.tag == "tr" and "data-action" in e.attrs]
    assert [(e.attrs["data-action"], e.attrs["data-version"]) for e in events] == [
        ("promote", "v1.0.0"),
        ("promote", "v1.1.0"),
        ("rollback", "v1.0.0"),
    ]
    assert HOSTILE in events[0].content, "the note is shown as text, whole"
    assert "misreads sevens" in events[2].content and "model@v1.1.0" in events[2].content
    as_json = json.loads((released.root / "reports/releases.json").read_text())
    assert [release["version"] for release in as_json["releases"]] == ["v1.1.1", "v1.1.0", "v1.0.0"]
    assert as_json["stages"][0]["now"] == "v1.0.0" and as_json["gated"]["known"][0]["commit"] == gated
    # the page follows GTO's rule itself (one git call for every tag): GTO, asked the same, agrees
    assert ok(released, "which", "--stage", "prod").strip() == as_json["stages"][0]["now"]
    shutil.copyfile(tmp_path / "history.png", REPO_ROOT / "docs" / "history.png")


def test_the_byop_history_page_shows_rmse_with_its_relative_limit_and_prod(byop: Project, tmp_path: Path) -> None:
    """The regression pipeline: RMSE (lower is better, a relative gate), no data statistics, prod moved and back."""
    assert byop.retrain("run", "--push").returncode == 0
    byop.set_param("fit", "alpha", 0.05)
    assert byop.retrain("run", "--push").returncode == 0
    for version in ("v1.0.0", "v1.0.1"):
        ok(byop, "promote", version, "--stage", "prod")
    ok(byop, "rollback", "--stage", "prod")
    ok(byop, "history", "--html", "out")

    found = check_common(byop.root / "out/index.html", tmp_path / "byop.png")

    releases = rows_of(found, "releases")
    assert [row.attrs["data-version"] for row in releases] == ["v1.0.1", "v1.0.0"]
    assert "not kept" in releases[0].content, "no data statistics: no row count made up"
    trend = by_tag(found, "svg", id="trend-0")[0]
    assert trend.attrs["data-metric"] == "rmse"
    start = found.index(trend)
    rmse = [metrics_at(byop, f"regressor@{v}", "metrics/scores.json")["rmse"] for v in ("v1.0.0", "v1.0.1")]
    dots = [float(e.attrs["data-value"]) for e in found[start:] if e.tag == "circle"][:2]
    assert dots == rmse
    history = json.loads(ok(byop, "releases", "--json"))
    assert [point["limit"] for point in history["trends"][0]["points"]] == pytest.approx([x * 1.05 for x in rmse])
    assert ok(byop, "which", "--stage", "prod").strip() == history["stages"][0]["now"] == "v1.0.0", "GTO agrees"
    prod = by_tag(found, "svg", **{"class": "stage", "data_stage": "prod"})[0]
    assert [e.attrs["data-version"] for e in found[found.index(prod) :] if e.tag == "rect"][:3] == [
        "v1.0.0",
        "v1.0.1",
        "v1.0.0",
    ]


def test_the_request_check_sees_a_page_that_fetches(tmp_path: Path) -> None:
    """The control: a page with an outside image is caught by the same check (so an empty list means something)."""
    page = tmp_path / "fetches.html"
    page.write_text('<html><body><img src="http://example.invalid/x.png"><p>x</p></body></html>')
    seen = look(page, tmp_path / "fetches.png", (400, 300))
    assert seen.requests == ["http://example.invalid/x.png"]
    assert page_requests("NotifyBeforeURLRequest: https://clients2.google.com/x", page) == []
