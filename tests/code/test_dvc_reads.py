"""What the engine reads of a project's metrics and plot files and of dvc.yaml's `metrics:` and `plots:` comes from
outside: any text gives a mapping, a row list or one reason, never an exception (hypothesis)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from retrain import dvcfiles, dvcmetrics, dvcplots

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(st.text(max_size=200) | JSON.map(json.dumps))
def test_a_metrics_text_is_a_mapping_or_one_reason(text: str) -> None:
    found = dvcmetrics._mapping(text)
    assert isinstance(found, dict) or (isinstance(found, dvcmetrics.Unreadable) and "\n" not in found.reason)


@settings(deadline=None)  # the first example imports DVC
@given(JSON)
def test_plot_rows_are_the_first_list_of_mappings_or_none(tmp_path_factory, document) -> None:
    path = Path(tmp_path_factory.mktemp("plot")) / "plot.json"
    path.write_text(json.dumps(document))
    found = dvcplots.rows(path)
    assert all(isinstance(row, dict) for row in found)


@given(st.dictionaries(st.sampled_from(["plots", "metrics", "stages"]), JSON, max_size=3))
def test_any_plots_and_metrics_sections_give_specs_or_nothing(document: dict) -> None:
    text = yaml.safe_dump(document)
    for spec in dvcfiles.plot_specs(text):
        assert isinstance(spec.x, str) and all(isinstance(column, str) for column in spec.y.values())
    assert all(isinstance(path, str) for path in dvcfiles.top_level_metrics(text))
