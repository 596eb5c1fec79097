"""Metric names as `dvc metrics show` prints them: nested keys joined with `.` (dvclive writes
`{"avg_prec": {"train": .., "test": ..}}`, named `avg_prec.train` and `avg_prec.test`).

The one place a metrics file's content becomes named numbers: the settings, the gate, the lineage, `releases`, the
report and the history all read metrics through `flatten`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from retrain.errors import UnknownMetricError
from retrain.untrusted import printable


def flatten(document: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """name -> number of every number in a metrics file's content, however deep; booleans, text and lists are no
    metrics (DVC leaves them out of `dvc metrics show` too)."""
    found: dict[str, float] = {}
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found.update(flatten(value, f"{name}."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found[name] = value
    return found


PER_CLASS = "per_class_"  # a metric `per_class_<name>`: {class: number}, drawn as bars per class, not as lines


def headline(numbers: Mapping[str, float], primary: str) -> dict[str, float]:
    """The numbers a table or a trend shows: the primary metric first, then the others but the per-class breakdowns
    (`per_class_<name>.<class>`), which the report draws per class. The tag's lineage keeps every number."""
    first = {primary: numbers[primary]} if primary in numbers else {}
    return first | {name: number for name, number in numbers.items() if not name.startswith(PER_CLASS)}


def value(numbers: Mapping[str, float], name: str, metrics_file: str) -> float:
    """The metric `name` (release.primary_metric) of flattened numbers, or one line listing every name they have."""
    if name not in numbers:
        raise UnknownMetricError(shown(name), metrics_file, [shown(known) for known in numbers])
    return numbers[name]


def shown(name: str) -> str:
    """A metric name on one visible line: it comes from the project's files."""
    return printable(name)
