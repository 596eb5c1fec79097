"""Who served each stage over time, from the stage tags (pure: the tags are read by collect.py).

GTO's rule, which `retrain which` and `gto show` follow: a version holds a stage while its latest tag for that stage
is an assignment (and the version is not deregistered); the stage's holder is the one assigned last among those.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from retrain.history.model import Serving, StageAction, StageEvent, StageHeld, StageHistory


@dataclass(frozen=True)
class Tagged:
    """A stage event with what orders it: GTO orders by the tag's date, the engine's counter breaks ties."""

    event: StageEvent
    date: int
    counter: int


def _holder(latest: dict[str, StageEvent], retired: Collection[str] = ()) -> str | None:
    assigned = [
        event
        for version, event in latest.items()
        if event.action is not StageAction.UNASSIGN and version not in retired
    ]
    return assigned[-1].version if assigned else None  # `latest` keeps insertion order: the last assigned wins


def timeline(stage: str, tagged: list[Tagged], retired: Collection[str]) -> StageHistory:
    """The stage's spans (which version served from when to when) and its events, oldest first; the holder now
    skips deregistered versions, as GTO does."""
    events = [item.event for item in sorted(tagged, key=lambda item: (item.date, item.counter))]
    latest: dict[str, StageEvent] = {}  # version -> its latest event for this stage, in the order they were made
    spans: list[Serving] = []
    for event in events:
        if event.version is None:
            continue
        latest.pop(event.version, None)
        latest[event.version] = event
        now = _holder(latest)
        if spans and spans[-1].end is None and spans[-1].version != now:
            spans[-1] = Serving(spans[-1].version, spans[-1].start, event.at)
        if now is not None and (not spans or spans[-1].end is not None):
            spans.append(Serving(now, event.at, None))
    return StageHistory(stage, _holder(latest, retired), spans, events)


def held_now(histories: list[StageHistory], retired: Collection[str]) -> dict[str, list[StageHeld]]:
    """version -> the stages it holds now (every assignment still in effect, as GTO lists them), newest first;
    deregistered versions hold none, as GTO hides them."""
    found: list[tuple[str, StageHeld]] = []
    for history in histories:
        latest: dict[str, StageEvent] = {}
        for event in history.events:
            if event.version is not None:
                latest[event.version] = event
        for version, event in latest.items():
            if event.action is not StageAction.UNASSIGN and version not in retired:
                found.append((version, StageHeld(history.stage, event.at, event.tag)))
    held: dict[str, list[StageHeld]] = {}
    for version, stage in sorted(found, key=lambda pair: pair[1].since, reverse=True):
        held.setdefault(version, []).append(stage)
    return held
