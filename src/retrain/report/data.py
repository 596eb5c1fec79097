"""What a report holds: the numbers against a base, the gate's verdict, notes and plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from retrain.decisions import GateVerdict


@dataclass(frozen=True)
class MetricChange:
    name: str
    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        if isinstance(self.old, int | float) and isinstance(self.new, int | float):
            return self.new - self.old
        return None


@dataclass(frozen=True)
class StageNow:
    """What a stage serves as the report is written, for a reviewer deciding whether to promote this run."""

    stage: str
    release: str | None  # None: nothing promoted to it yet
    since: str | None
    metric: float | None  # the release's primary metric


@dataclass
class Report:
    title: str
    base_label: str  # what the numbers are compared with: "develop", "model@v1.2.0", ...
    headline: str  # one line: released / up to date / gated / would release
    metrics: list[MetricChange] = field(default_factory=list)
    data: list[MetricChange] = field(default_factory=list)
    params: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)  # stage dependencies whose hash differs from the base's
    gate: GateVerdict | None = None
    plots: list[tuple[str, str]] = field(default_factory=list)  # (caption, file name beside the report)
    # Image links in the markdown (CML then uploads them to its public host): only when publishing is opted into.
    # Otherwise the figures are tables, and the PNGs are named as the run's workflow artifact.
    images: bool = False
    per_class_name: str = ""  # the metric of the `per_class_<name>` entry, e.g. f1
    per_class: list[MetricChange] = field(default_factory=list)  # that metric for each class, against the base
    confusion_labels: list[str] = field(default_factory=list)
    confusion: list[list[int]] = field(default_factory=list)  # this run's counts, [row][column]
    confusion_axes: tuple[str, str] = ("actual", "predicted")  # the (row, column) columns of the plot's data file
    confusion_file: str = ""  # the data file the table counts, named when the project has several
    artifact_url: str | None = None  # where the PNGs are (the CI run's artifacts), when known
    notes: list[str] = field(default_factory=list)
    stages: list[StageNow] = field(default_factory=list)  # every stage .gto allows, in its order
    metric: str = ""  # the primary metric: first in the metrics table, shown beside each stage's release
    candidate: str | None = None  # the release this run made, to compare with what serves


def metric_label(name: str) -> str:
    """A metric's name for a heading or an axis: short ones as initials (F1), others in words."""
    return name.upper() if len(name) <= 3 else name.replace("_", " ")
