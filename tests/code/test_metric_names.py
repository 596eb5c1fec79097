"""Issue 23, stop 2: metric names as `dvc metrics show` prints them, nested keys joined with `.` (dvclive writes
`{"avg_prec": {"train": .., "test": ..}}`); the one flattening (retrain.metrics) and the error that lists every name.
No git, no DVC."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrain import metrics
from retrain.errors import UnknownMetricError
from retrain.report import Report, compare
from retrain.report.data import MetricChange
from retrain.report.markdown import render_markdown
from tests.helpers import sh

KEYS = st.text(st.characters(blacklist_characters=".", blacklist_categories=("Cs",)), min_size=1, max_size=8)
NUMBERS = st.floats(allow_nan=False)
NESTED = st.recursive(NUMBERS, lambda inner: st.dictionaries(KEYS, inner, min_size=1, max_size=4), max_leaves=20)
DOCUMENTS = st.dictionaries(KEYS, NESTED, max_size=5)


def unflatten(flat: dict[str, float]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for name, value in flat.items():
        *parents, last = name.split(".")
        where = document
        for key in parents:
            where = where.setdefault(key, {})
        where[last] = value
    return document


@given(DOCUMENTS)
def test_flattening_round_trips_any_nested_dict_of_floats(document: dict[str, Any]) -> None:
    assert unflatten(metrics.flatten(document)) == document


@given(DOCUMENTS)
def test_the_error_for_a_missing_name_lists_every_flattened_name(document: dict[str, Any]) -> None:
    flat = metrics.flatten(document)
    with pytest.raises(UnknownMetricError) as raised:
        metrics.value(flat, "no such metric", "eval/metrics.json")
    message = str(raised.value)
    assert "\n" not in message and raised.value.exit_code == 2
    listed = message.split("(it has: ", 1)[1].rsplit(")", 1)[0]
    assert all(metrics.shown(name) in listed for name in flat)


def test_dvclive_nested_metrics_are_named_as_dvc_prints_them() -> None:
    document = {"avg_prec": {"train": 0.9, "test": 0.8}, "roc_auc": 0.7, "epochs": 3, "done": True, "notes": "x"}
    flat = metrics.flatten(document)
    assert flat == {"avg_prec.train": 0.9, "avg_prec.test": 0.8, "roc_auc": 0.7, "epochs": 3}
    assert metrics.value(flat, "avg_prec.test", "eval/metrics.json") == 0.8
    with pytest.raises(UnknownMetricError) as raised:
        metrics.value(flat, "avg_prec", "eval/metrics.json")
    assert str(raised.value) == (
        "params.yaml: release.primary_metric `avg_prec` is not a number in eval/metrics.json (it has: "
        "avg_prec.train, avg_prec.test, roc_auc, epochs); fix it."
    )


def test_the_report_compares_nested_metrics_by_their_dotted_names_and_escapes_them(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "eval").mkdir(parents=True)
    (root / "eval/metrics.json").write_text(json.dumps({"avg_prec": {"test": 0.8}}))
    (root / "params.yaml").write_text("train:\n  C: 1.0\n")
    sh(["git", "init", "--quiet"], root)
    sh(["git", "add", "--all"], root)
    sh(["git", "commit", "--quiet", "-m", "base"], root)
    evil = {"avg_prec": {"test": 0.9}, "<img src=x>|": {"a": 1.0}}
    (root / "eval/metrics.json").write_text(json.dumps(evil))
    report = Report(title="t", base_label="base", headline="h", metric="avg_prec.test")
    compare(root, report, "HEAD", "eval/metrics.json", None)
    assert report.metrics == [MetricChange("avg_prec.test", 0.8, 0.9), MetricChange("<img src=x>|.a", None, 1.0)]
    text = render_markdown(report)
    assert "| avg_prec.test | 0.8000 | 0.9000 |" in text
    assert "<img" not in text.replace("`<img src=x>\\|.a`", "")


def test_tables_and_trends_leave_per_class_breakdowns_to_the_per_class_table() -> None:
    """digits' metrics.json: the headline numbers are accuracy and f1_macro; per_class_f1.<digit> only when it is the
    primary metric (first)."""
    numbers = metrics.flatten({"accuracy": 0.95, "f1_macro": 0.94, "per_class_f1": {"0": 0.99, "3": 0.9}})
    assert list(metrics.headline(numbers, "accuracy")) == ["accuracy", "f1_macro"]
    assert list(metrics.headline(numbers, "per_class_f1.3")) == ["per_class_f1.3", "accuracy", "f1_macro"]
    assert metrics.headline(numbers, "missing") == {"accuracy": 0.95, "f1_macro": 0.94}
