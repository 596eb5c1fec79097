"""params.yaml: load and validate, one section per stage, with messages that name the key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from retrain.errors import ParamsError

PARAMS_FILE = Path("params.yaml")

# section -> key -> (expected type, lower bound, upper bound, inclusive lower?)
Spec = dict[str, tuple[type, float | None, float | None, bool]]

SECTIONS: dict[str, Spec] = {
    "preprocessing": {
        "test_size": (float, 0.0, 1.0, False),
        "seed": (int, 0, 2**32 - 1, True),
    },
    "train": {
        "C": (float, 0.0, None, False),
        "max_iter": (int, 1, 100_000, True),
        "seed": (int, 0, 2**32 - 1, True),
    },
    "release": {
        "primary_metric": (str, None, None, True),
        "max_regression": (float, 0.0, 1.0, True),
    },
}
METRIC_CHOICES = ("accuracy", "f1_macro")


@dataclass(frozen=True)
class PreprocessingParams:
    test_size: float
    seed: int


@dataclass(frozen=True)
class TrainParams:
    C: float
    max_iter: int
    seed: int


@dataclass(frozen=True)
class ReleaseParams:
    primary_metric: str
    max_regression: float


def read_params_file(path: Path = PARAMS_FILE, shown: Path | None = None) -> dict[str, Any]:
    """Parse params.yaml into a mapping, or say in one line (named `shown`, default `path`) why it cannot be read."""
    shown = shown or path
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ParamsError(f"{shown}: file not found; run from the repository root.") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())  # the parser's message spans lines; the last line must say it all
        raise ParamsError(f"{shown}: not valid YAML ({reason}); fix the file and re-run.") from None
    if not isinstance(document, Mapping):
        raise ParamsError(f"{shown}: expected a mapping of sections, got {type(document).__name__}.")
    return dict(document)


def _check_value(path: Path, section: str, key: str, value: Any, rule: tuple) -> Any:
    expected, low, high, low_inclusive = rule
    where = f"{path}: {section}.{key}"
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, expected):
        raise ParamsError(
            f"{where}: expected {expected.__name__}, got {value!r} ({type(value).__name__}); fix params.yaml."
        )
    if expected is str:
        if section == "release" and key == "primary_metric" and value not in METRIC_CHOICES:
            raise ParamsError(f"{where}: must be one of {', '.join(METRIC_CHOICES)}, got {value!r}.")
        return value
    too_low = low is not None and (value < low if low_inclusive else value <= low)
    too_high = high is not None and value > high
    if too_low or too_high:
        bound = f"{'>=' if low_inclusive else '>'} {low}" if low is not None else ""
        upper = f"<= {high}" if high is not None else ""
        allowed = " and ".join(part for part in (bound, upper) if part)
        raise ParamsError(f"{where}: must be {allowed}, got {value!r}; fix params.yaml.")
    return value


def validate_section(document: Mapping[str, Any], section: str, path: Path = PARAMS_FILE) -> dict[str, Any]:
    """Check one section: present, a mapping, every key known, typed and in range."""
    spec = SECTIONS[section]
    if section not in document:
        raise ParamsError(f"{path}: section '{section}' is missing; add it with keys {', '.join(spec)}.")
    values = document[section]
    if not isinstance(values, Mapping):
        raise ParamsError(f"{path}: section '{section}' must be a mapping of keys, got {values!r}.")
    unknown = sorted(set(values) - set(spec))
    if unknown:
        raise ParamsError(
            f"{path}: {section}.{unknown[0]}: unknown key (known: {', '.join(spec)}); remove it or fix its spelling."
        )
    missing = [key for key in spec if key not in values]
    if missing:
        raise ParamsError(f"{path}: {section}.{missing[0]}: missing key; add it to params.yaml.")
    return {key: _check_value(path, section, key, values[key], spec[key]) for key in spec}


def validate_all(document: Mapping[str, Any], path: Path = PARAMS_FILE) -> None:
    """Check every section, and that there is no section nobody reads."""
    unknown = sorted(set(document) - set(SECTIONS))
    if unknown:
        raise ParamsError(
            f"{path}: unknown section '{unknown[0]}' (known: {', '.join(SECTIONS)}); remove it or fix its spelling."
        )
    for section in SECTIONS:
        validate_section(document, section, path)


def load_preprocessing(path: Path = PARAMS_FILE) -> PreprocessingParams:
    return PreprocessingParams(**validate_section(read_params_file(path), "preprocessing", path))


def load_train(path: Path = PARAMS_FILE) -> TrainParams:
    return TrainParams(**validate_section(read_params_file(path), "train", path))


def load_release(path: Path = PARAMS_FILE) -> ReleaseParams:
    return ReleaseParams(**validate_section(read_params_file(path), "release", path))
