"""The report: its markdown reads well on GitHub, and its numbers compare the right revisions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrain.decisions import gate
from retrain.report import Report, compare
from retrain.report.data import MetricChange, StageNow
from retrain.report.markdown import render_markdown
from tests.helpers import sh

METRICS, STATS = "metrics/metrics.json", "metrics/data.json"


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
    assert "![" not in text, "no image link by default: CML would upload it to its public host"
    assert "Plots (`confusion.png`): beside it; not uploaded anywhere else." in text
    assert "> remote not reachable" in text
    report.images = True  # opted in (a public repository)
    assert "![Confusion matrix](./confusion.png)" in render_markdown(report)


def test_figures_are_tables_with_changes_and_the_pngs_are_named_as_the_run_artifact() -> None:
    report = Report(
        title="t",
        base_label="develop",
        headline="h",
        per_class_name="f1",
        per_class=[MetricChange("0", 0.9, 0.95), MetricChange("1", None, 0.8)],
        confusion_labels=["0", "1"],
        confusion=[[5, 1], [0, 7]],
        plots=[("F1 per class", "per_class_f1.png")],
        artifact_url="https://github.com/acme/ml-repo/actions/runs/7#artifacts",
    )
    text = render_markdown(report)
    assert "| 0 | 0.9000 | 0.9500 | +0.0500 |" in text and "| 1 | – | 0.8000 | new |" in text
    assert "### F1 per class" in text
    assert "| actual \\ predicted | 0 | 1 |" in text
    assert "| 0 | **5** | 1 |" in text and "| 1 | · | **7** |" in text
    assert "[workflow artifact](https://github.com/acme/ml-repo/actions/runs/7#artifacts) `report-plots`" in text
    assert "![" not in text


def test_markdown_says_what_each_stage_serves_next_to_the_new_release() -> None:
    report = Report(
        title="Retrain report: model@v1.2.0",
        base_label="model@v1.1.0",
        headline="released model@v1.2.0",
        stages=[StageNow("dev", None, None, None), StageNow("prod", "model@v1.0.0", "2026-01-02T03:04:05+00:00", 0.95)],
        candidate="model@v1.2.0",
    )
    text = render_markdown(report)
    assert "| dev | – |  | – |" in text
    assert "| prod | model@v1.0.0 | 2026-01-02T03:04:05+00:00 | 0.9500 |" in text
    assert "This run: **model@v1.2.0**; prod serves model@v1.0.0" in text
    assert "`retrain promote v1.2.0 --stage prod`" in text
    assert text.index("### Serving now") < text.index("**released model@v1.2.0**") + 200
    assert "### Serving now" not in render_markdown(Report(title="t", base_label="b", headline="h"))


class TestCompare:
    """report.compare: the workspace's metrics files and params.yaml against a base revision, read with git."""

    @staticmethod
    def repo(tmp_path: Path) -> Path:
        """A git repository whose first commit (tag `base`) holds metrics and params."""
        root = tmp_path / "repo"
        (root / "metrics").mkdir(parents=True)
        (root / "metrics/metrics.json").write_text(json.dumps({"accuracy": 0.9, "f1_macro": 0.8}))
        (root / "metrics/data.json").write_text(json.dumps({"rows": 100, "batches": 1}))
        (root / "params.yaml").write_text("train:\n  C: 1.0\nrelease:\n  max_regression: 0.05\n")
        sh(["git", "init", "--quiet"], root)
        sh(["git", "add", "--all"], root)
        sh(["git", "commit", "--quiet", "-m", "base"], root)
        sh(["git", "tag", "base"], root)
        return root

    def test_changes_against_a_base_revision(self, tmp_path: Path) -> None:
        """Old values come from the base commit, new ones from the workspace; only changed params are listed."""
        root = self.repo(tmp_path)
        (root / "metrics/metrics.json").write_text(json.dumps({"accuracy": 0.95, "f1_macro": 0.8}))
        (root / "metrics/data.json").write_text(json.dumps({"rows": 300, "batches": 2}))
        (root / "params.yaml").write_text("train:\n  C: 0.5\nrelease:\n  max_regression: 0.05\n")
        report = Report(title="t", base_label="base", headline="h")
        compare(root, report, "base", METRICS, STATS)
        assert report.metrics == [MetricChange("accuracy", 0.9, 0.95), MetricChange("f1_macro", 0.8, 0.8)]
        assert report.data == [MetricChange("rows", 100, 300), MetricChange("batches", 1, 2)]
        assert report.params == {"train.C": (1.0, 0.5)}

    def test_no_base_and_an_unchanged_base(self, tmp_path: Path) -> None:
        """A first release has no old values; a no-op run against HEAD itself shows old = new and no params."""
        root = self.repo(tmp_path)
        first = Report(title="t", base_label="none", headline="h")
        compare(root, first, None, METRICS, STATS)
        assert first.metrics[0] == MetricChange("accuracy", None, 0.9) and first.params == {}
        same = Report(title="t", base_label="base", headline="h")
        compare(root, same, "base", METRICS, STATS)
        assert same.metrics[0] == MetricChange("accuracy", 0.9, 0.9) and same.params == {}


def test_first_release_plots_this_run_alone(tmp_path: Path, monkeypatch) -> None:
    """With no base there is nothing to compare: one bar per digit, and the title says so."""
    from retrain.report import plots

    plots._headless()
    from matplotlib.axes import Axes

    drawn: list[tuple[str, dict]] = []
    real_bar = Axes.bar

    def bar(axis, positions, heights, width, **kwargs):
        drawn.append((kwargs.get("label", ""), list(heights)))
        return real_bar(axis, positions, heights, width, **kwargs)

    monkeypatch.setattr(Axes, "bar", bar)
    per_class = ("f1", {str(digit): 0.9 for digit in range(10)})
    absent = plots.Confusion(tmp_path / "absent.csv", "actual", "predicted")
    made = plots.write_plots(tmp_path, [absent], per_class, None, "no earlier release")
    assert made == [("F1 per class", "per_class_f1.png")] and (tmp_path / "per_class_f1.png").stat().st_size > 0
    assert [label for label, _ in drawn] == ["this run"]
    drawn.clear()
    plots.write_plots(tmp_path, [], per_class, ("f1", {"0": 0.5}), "model@v1.0.0")
    assert [label for label, _ in drawn] == ["model@v1.0.0", "this run"]


def test_changed_inputs_name_the_dependencies_whose_hash_moved() -> None:
    """A package upgrade changes requirements.lock's hash in dvc.lock: the report lists it as a changed input."""
    from retrain.report.compare import changed_inputs

    def lock(env: str, code: str) -> str:
        deps = f"    - path: requirements.lock\n      md5: {env}\n    - path: src/pipeline\n      md5: {code}\n"
        return f"schema: '2.0'\nstages:\n  train:\n    cmd: x\n    deps:\n{deps}"

    assert changed_inputs(lock("a", "c"), lock("b", "c")) == ["requirements.lock"]
    assert changed_inputs(lock("a", "c"), lock("a", "c")) == []
    assert changed_inputs(None, lock("a", "c")) == ["requirements.lock", "src/pipeline"]
    text = render_markdown(Report(title="t", base_label="develop", headline="h", inputs=["requirements.lock"]))
    assert "### Inputs changed" in text and "- `requirements.lock`" in text


def test_confusion_counts_take_the_projects_labels_and_columns(tmp_path) -> None:
    """Any pipeline's confusion file: its own column names and labels (text or numbers, in natural order)."""
    from retrain.report import confusion_counts
    from retrain.report.plots import Confusion

    rows = tmp_path / "confusion.csv"
    rows.write_text("truth,guess\n10,10\n9,10\n9,9\n10,10\n")
    assert confusion_counts(Confusion(rows, "truth", "guess")) == (["9", "10"], [[1, 1], [0, 2]])
    assert confusion_counts(Confusion(tmp_path / "absent.csv", "truth", "guess")) == ([], [])


def test_hostile_names_from_the_pipelines_files_render_as_text_not_markup() -> None:
    """Metric, param and class names come from files a pull request writes: no link, mention, image, HTML or extra
    table cell reaches the comment, and the names still read as they are."""
    from markdown_it import MarkdownIt

    evil = "@octocat [x](http://evil.example) <b>|</b> ![i](http://evil.example/i.png)"
    report = Report(
        title="Retrain report",
        base_label="model@v1.0.0",
        headline=f"gated: no tag. gate failed: {evil} 0.1000 vs 0.9000",
        metric=evil,
        metrics=[MetricChange(evil, 0.9, 0.1)],
        params={f"train.{evil}": ("[skip ci]", "`x`")},
        gate=gate(evil, 0.1, 0.9, 0.02),
        per_class=[MetricChange("www.evil.example", 0.5, 0.6)],
        per_class_name=evil,
        confusion_labels=["0", evil],
        confusion=[[1, 0], [0, 1]],
    )
    html = MarkdownIt("commonmark").enable("table").render(render_markdown(report))
    assert "<a " not in html and "<img" not in html and "<b>" not in html, html
    assert html.count("<code>@octocat") >= 4, "each hostile name shown literally, as code"
    for table in html.split("<table>")[1:]:  # never an extra cell from a `|`: every row as wide as its header
        rows = [row for row in table.split("</table>")[0].split("<tr>")[1:]]
        widths = {row.count("<td") + row.count("<th") for row in rows}
        assert len(rows) >= 2 and len(widths) == 1, table
    assert "| accuracy |" in render_markdown(
        Report(title="t", base_label="b", headline="h", metrics=[MetricChange("accuracy", 0.9, 0.95)])
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "cm.json",
            '[{"actual": "0", "predicted": "0"}, {"actual": "0", "predicted": "1"}, {"actual": 1, "predicted": 1}]',
        ),
        (
            "cm.json",
            '{"cm": [{"actual": 0, "predicted": 0}, {"actual": 0, "predicted": 1}, {"actual": 1, "predicted": 1}]}',
        ),
        ("cm.yaml", "- {actual: 0, predicted: 0}\n- {actual: 0, predicted: 1}\n- {actual: 1, predicted: 1}\n"),
        ("cm.csv", "actual,predicted\n0,0\n0,1\n1,1\n"),
        ("cm.tsv", "actual\tpredicted\n0\t0\n0\t1\n1\t1\n"),
    ],
)
def test_a_confusion_plot_in_every_format_dvc_reads(tmp_path, name: str, text: str) -> None:
    """Issue 23, stop 3's cause: the report read a `template: confusion` plot with a CSV reader only, and dvclive's
    are JSON (a bare list, or rows under a key). DVC's plot parser reads each of these formats the same."""
    from retrain.report.plots import Confusion, counts

    (tmp_path / name).write_text(text)
    assert counts(Confusion(tmp_path / name, "actual", "predicted")) == (["0", "1"], [[1, 1], [0, 1]])
