"""`retrain init`'s settings (retrain.init.settings): what it derives, the one line it says when it cannot, and the
`release:` section it writes into a team's params.yaml without disturbing a byte of the rest. Option values and
metric names come from a person's command line and a project's files: hostile input by hypothesis."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from retrain import config
from retrain.errors import EXIT_BAD_INPUT, InitError
from retrain.init.settings import InitOptions, Section, compare, derive, direction_of, with_section

DVC_YAML = """\
stages:
  fit:
    cmd: python fit.py
    deps: [fit.py, data/raw.csv]
    outs: [models/model.pkl]
    metrics:
      - metrics/scores.json:
          cache: false
artifacts:
  model:
    path: models/model.pkl
    type: model
"""
TEAM_PARAMS = """\
# the team's own params: comments, odd spacing and order must survive init
fit:
  alpha:   1.0     # regularisation
  seed: 7

# a comment between sections
split: {holdout: 0.25}
"""


def project(root: Path, dvc_yaml: str = DVC_YAML, scores: dict | None = None) -> Path:
    (root / "dvc.yaml").write_text(dvc_yaml)
    (root / "data").mkdir(exist_ok=True)
    (root / "data/raw.csv.dvc").write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: raw.csv\n")
    if scores is not None:
        (root / "metrics").mkdir(exist_ok=True)
        (root / "metrics/scores.json").write_text(json.dumps(scores))
    return root


def options(**given: str) -> InitOptions:
    return InitOptions(**{"metric": "rmse", "max_regression": "0.05", **given})


@pytest.mark.parametrize(
    ("metric", "direction"),
    [("rmse", "lower"), ("val_loss", "lower"), ("test.mae", "lower"), ("accuracy", "higher"),
     ("avg_prec.test", "higher"), ("f1_macro", "higher"), ("roc_auc", "higher")],
)  # fmt: skip
def test_the_direction_of_a_well_known_metric_is_derived(metric: str, direction: str) -> None:
    assert direction_of(metric) == direction


@pytest.mark.parametrize("metric", ["throughput", "loss_vs_accuracy", "kappa"])
def test_an_unknown_or_ambiguous_metric_asks_for_direction(metric: str) -> None:
    with pytest.raises(InitError, match="pass --direction higher\\|lower") as raised:
        direction_of(metric)
    assert raised.value.exit_code == EXIT_BAD_INPUT


def test_only_what_dvc_yaml_cannot_say_is_written(tmp_path: Path) -> None:
    assert derive(project(tmp_path), options()) == {
        "primary_metric": "rmse", "direction": "lower", "max_regression": 0.05, "threshold": "absolute"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("given", "option"),
    [({"metric": ""}, "--metric NAME"), ({"max_regression": None}, "--max-regression X"),
     ({"max_regression": "-1"}, "--max-regression"), ({"max_regression": "nan"}, "--max-regression"),
     ({"artifact": "nope"}, "--artifact"), ({"metrics_file": "other.json"}, "--metrics-file"),
     ({"raw_data": "elsewhere"}, "--raw-data"), ({"threshold": "percent"}, "--threshold")],
)  # fmt: skip
def test_what_cannot_be_derived_is_one_line_naming_the_option(tmp_path: Path, given: dict, option: str) -> None:
    with pytest.raises(InitError) as raised:
        derive(project(tmp_path), options(**given))
    assert option in str(raised.value) and "\n" not in str(raised.value)


def test_several_models_metrics_files_or_raw_data_ask_for_the_option(tmp_path: Path) -> None:
    two_models = DVC_YAML + "  other:\n    path: models/model.pkl\n    type: model\n"
    with pytest.raises(InitError, match=r"several model artifacts .* pass --artifact NAME"):
        derive(project(tmp_path, two_models), options())
    assert derive(project(tmp_path, two_models), options(artifact="other"))["artifact"] == "other"
    no_raw = DVC_YAML.replace("data/raw.csv", "data/other.csv")
    with pytest.raises(InitError, match="pass --raw-data PATH"):
        derive(project(tmp_path, no_raw), options())


def test_a_metric_the_metrics_file_lacks_is_refused_with_its_names(tmp_path: Path) -> None:
    root = project(tmp_path, scores={"rmse": 1.0, "r2": {"test": 0.5}})
    assert derive(root, options())["primary_metric"] == "rmse"
    assert derive(root, options(metric="r2.test"))["direction"] == "higher"  # nested, as dvc metrics show names it
    with pytest.raises(InitError, match=r"not a number in metrics/scores.json \(it has: rmse, r2.test\)"):
        derive(root, options(metric="mse"))


def test_the_section_is_appended_and_every_other_byte_kept(tmp_path: Path) -> None:
    release = derive(project(tmp_path), options())
    text = with_section(TEAM_PARAMS, release)
    assert text.startswith(TEAM_PARAMS)
    assert yaml.safe_load(text)[config.SECTION] == release
    assert compare(text, release) is Section.SAME and compare(TEAM_PARAMS, release) is Section.MISSING
    assert with_section(None, release) == with_section("", release)


def test_replacing_a_section_keeps_the_rest_and_the_teams_own_keys() -> None:
    team = TEAM_PARAMS.replace("# a comment", "release:\n  primary_metric: acc  # old\n  seed_command: make data\n"
                                             "# a comment")  # fmt: skip
    release = {"primary_metric": "rmse", "direction": "lower", "max_regression": 0.1, "threshold": "absolute"}
    assert compare(team, release) is Section.DIFFERENT
    text = with_section(team, release)
    assert yaml.safe_load(text)[config.SECTION] == release | {"seed_command": "make data"}
    before, _, _ = team.partition("release:")
    assert text.startswith(before) and text.endswith("# a comment between sections\nsplit: {holdout: 0.25}\n")


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(metric=st.text(min_size=1, max_size=40), regression=st.text(max_size=12) | st.floats().map(repr))
@example(metric="a: b # c\n- d", regression="0.1")
@example(metric="\u2028rmse", regression="1e309")
@example(metric="'\"{[&*!|>%@`", regression=" 0.5 ")
def test_hostile_options_are_one_line_or_a_section_that_reads_back(
    tmp_path: Path, metric: str, regression: str
) -> None:
    """Whatever a person types: either one `error:` line naming an option (nothing written), or a params.yaml
    whose other bytes are the team's and whose section retrain.config reads back as exactly what was typed."""
    root = project(tmp_path)
    try:
        release = derive(root, InitOptions(metric=metric, max_regression=regression, direction="higher"))
    except InitError as error:
        assert str(error).count("\n") == 0 and "--" in str(error)
        return
    assert math.isfinite(release["max_regression"]) and release["max_regression"] >= 0
    text = with_section(TEAM_PARAMS, release)
    assert text.startswith(TEAM_PARAMS)
    (root / "params.yaml").write_text(text)
    loaded = config.load(root)
    assert loaded.primary_metric == metric and loaded.max_regression == release["max_regression"]
    assert compare(text, release) is Section.SAME  # so a second init changes nothing
