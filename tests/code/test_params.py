"""params.yaml validation: types, ranges, unknown keys and sections, with messages naming the key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from pipeline.errors import ParamsError
from pipeline.params import PARAMS_FILE, TrainParams, read_params_file, validate, validate_all
from retrain import config
from retrain.errors import ParamsError as EngineParamsError
from tests.helpers import REPO_ROOT, sh

DEFAULTS = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())


def with_change(section: str, key: str, value: object) -> dict:
    params = yaml.safe_load(yaml.safe_dump(DEFAULTS))
    if value is _DELETE:
        del params[section][key]
    else:
        params[section][key] = value
    return params


_DELETE = object()

CASES = {
    "wrong type": (("train", "C", "strong"), ["train.C", "expected float", "'strong'"]),
    "bool is not an int": (("train", "max_iter", True), ["train.max_iter", "expected int"]),
    "out of range low": (("preprocessing", "test_size", 0.0), ["preprocessing.test_size", "must be > 0.0"]),
    "out of range high": (("preprocessing", "test_size", 1.5), ["preprocessing.test_size", "<= 1.0"]),
    "negative C": (("train", "C", -1), ["train.C", "must be > 0.0"]),
    "unknown key": (("train", "learning_rate", 0.1), ["train.learning_rate", "unknown key"]),
    "missing key": (("train", "seed", _DELETE), ["train.seed", "missing key"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rule_message_names_the_key(case: str) -> None:
    (section, key, value), expected = CASES[case]
    with pytest.raises(ParamsError) as raised:
        validate_all(with_change(section, key, value))
    for fragment in expected:
        assert fragment in str(raised.value)


def test_missing_section() -> None:
    params = dict(DEFAULTS)
    del params["train"]
    with pytest.raises(ParamsError, match="section 'train' is missing"):
        validate_all(params)


def test_unknown_section() -> None:
    with pytest.raises(ParamsError, match="unknown section 'trian'"):
        validate_all({**DEFAULTS, "trian": {}})


def test_not_yaml_is_one_line_naming_the_file_as_shown(tmp_path: Path) -> None:
    """The parser's multi-line message becomes one line that names params.yaml, not a temp path."""
    (tmp_path / "params.yaml").write_text("train: [unclosed\n")
    with pytest.raises(ParamsError, match="not valid YAML") as raised:
        read_params_file(tmp_path / "params.yaml", Path("params.yaml"))
    message = str(raised.value)
    assert "\n" not in message and message.startswith("params.yaml: ") and str(tmp_path) not in message


def test_defaults_are_valid() -> None:
    assert validate_all(DEFAULTS).train.C == 1.0
    assert validate(TrainParams, DEFAULTS["train"], PARAMS_FILE, "train").max_iter == DEFAULTS["train"]["max_iter"]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("max_regression", -0.1, "release.max_regression"),
        ("max_regression", "big", "release.max_regression"),
        ("gate", 1, "release.gate"),
        ("primary_metric", 3, "release.primary_metric"),
        ("partition_by", "week", "release.partition_by"),
    ],
)
def test_engine_section_message_names_the_key(tmp_path: Path, key: str, value: object, expected: str) -> None:
    """The engine validates its own section (`release:`); the stages never read it."""
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(with_change("release", key, value)))
    with pytest.raises(EngineParamsError) as raised:
        config.load(tmp_path)
    assert str(raised.value).startswith("params.yaml: ") and expected in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.slow
def test_bad_param_fails_the_train_stage_and_writes_no_model(tmp_path: Path) -> None:
    """The stage refuses a bad params.yaml with exit 2 and the key in its last line; no model file."""
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(with_change("train", "max_iter", 0)))
    args = [sys.executable, "-m", "pipeline.train", "data/processed", "models/model.joblib"]
    result = sh(args, tmp_path, check=False)
    assert result.returncode == 2
    assert "train.max_iter" in result.stderr.splitlines()[-1] and ">= 1" in result.stderr.splitlines()[-1]
    assert not (tmp_path / "models").exists()


def test_partitions_without_append_only_are_refused_in_one_line(tmp_path: Path) -> None:
    """A partition only ever grows: `partition_by: month` with `append_only: false` is refused, naming both keys."""
    section = {**DEFAULTS["release"], "partition_by": "month", "append_only": False}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({**DEFAULTS, "release": section}))
    with pytest.raises(EngineParamsError) as raised:
        config.load(tmp_path)
    assert str(raised.value) == (
        "params.yaml: release: Value error, partition_by needs append_only: true (a partition only ever grows); fix it."
    )
