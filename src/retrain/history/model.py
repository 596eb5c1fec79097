"""The release history as one dataclass tree: what the page shows is what `retrain releases --json` carries.

Every text field that came from outside (a note, a metric or stage name, a pull request's title, a tagger) is kept
as it was written; whoever renders it escapes it (page.py escapes all of it for HTML).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from retrain.versioning import Bump


class Reason(StrEnum):
    """Why a release was made, read from what changed against the previous release."""

    FIRST = "first release"
    DATA = "data"
    PARAMS = "params"
    ENVIRONMENT = "environment"
    CODE = "code"  # none of the above changed: the pipeline's code (or dvc.yaml) did


class StageAction(StrEnum):
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    ASSIGN = "assign"  # a stage tag not written by `retrain promote`/`rollback` (e.g. `gto assign`)
    UNASSIGN = "unassign"


@dataclass(frozen=True)
class ParamChange:
    name: str  # flattened, e.g. train.C
    old: str | None  # as params.yaml wrote it; None: not there
    new: str | None


@dataclass(frozen=True)
class PullRequest:
    number: int
    title: str | None  # from the merge commit's message; None when it does not say


@dataclass(frozen=True)
class StageHeld:
    stage: str
    since: str  # ISO 8601, UTC
    tag: str  # the stage tag in effect


@dataclass(frozen=True)
class Release:
    tag: str
    version: str
    date: str  # the tag's date, ISO 8601 UTC
    commit: str
    bump: Bump | None  # None for the first release
    reasons: list[Reason]
    rows: int | None  # from the data statistics, when the project keeps them
    data_hash: str | None  # as the tag's lineage records it; None when the tag has no lineage
    environment: str | None
    params_changed: list[ParamChange]
    note: str | None
    run_url: str | None
    pull_requests: list[PullRequest]
    metrics: dict[str, float]  # the numbers of the metrics file, the primary metric first
    stages: list[StageHeld] = field(default_factory=list)  # the stages it holds now
    deregistered: bool = False
    lineage: bool = True  # an annotated tag with the engine's lineage message


@dataclass(frozen=True)
class StageEvent:
    stage: str
    action: StageAction
    version: str | None  # None: the tag sits on no release's commit
    at: str
    tag: str
    by: str | None
    previous: str | None  # the release it replaced, as the tag says
    note: str | None
    run_url: str | None


@dataclass(frozen=True)
class Serving:
    """A span during which one release served a stage."""

    version: str
    start: str
    end: str | None  # None: it serves now


@dataclass(frozen=True)
class StageHistory:
    stage: str
    now: str | None  # the version serving it now
    spans: list[Serving]
    events: list[StageEvent]


@dataclass(frozen=True)
class Deregistration:
    version: str
    at: str
    tag: str
    by: str | None
    message: str | None


@dataclass(frozen=True)
class Gate:
    metric: str
    direction: str  # higher or lower: which way is better
    threshold: str  # absolute or relative: how max_regression reads
    max_regression: float


@dataclass(frozen=True)
class Point:
    version: str
    value: float
    limit: float | None = None  # the worst value the next release could have had and still passed the gate


@dataclass(frozen=True)
class Trend:
    metric: str
    primary: bool
    points: list[Point]  # oldest release first


@dataclass(frozen=True)
class GatedRun:
    commit: str
    value: float | None  # the primary metric at that commit, when it is there
    recorded: str  # where it is recorded (reports/run.json) and when


@dataclass(frozen=True)
class GatedRuns:
    known: list[GatedRun]
    note: str  # what the page can and cannot know


@dataclass(frozen=True)
class History:
    artifact: str
    gate: Gate
    releases: list[Release]  # newest version first
    trends: list[Trend]
    stages: list[StageHistory]
    deregistrations: list[Deregistration]
    gated: GatedRuns
    unknown: list[str]  # what the repository does not record, said plainly


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not serializable: {type(value).__name__}")


def to_json(history: History) -> str:
    return json.dumps(dataclasses.asdict(history), indent=2, default=_plain)
