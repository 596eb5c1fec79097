"""What the annotated tags record, read back: a release tag's lineage (versioning.tag_message) and a stage tag's
assignment (versioning.assignment_message). The inverse of those writers; tests round-trip them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrain.versioning import AssignmentAction

_DATA = re.compile(r"^(?P<hash>\S+)(?: \((?P<rows>\d+) rows(?: in (?P<batches>\d+) batches)?\))?$")
_RUN = "ci run: "


@dataclass(frozen=True)
class ReleaseRecord:
    commit: str | None
    data_hash: str | None
    rows: int | None
    environment: str | None
    params: dict[str, str]  # flattened, each value as the message wrote it
    note: str | None
    run_url: str | None


@dataclass(frozen=True)
class StageRecord:
    action: AssignmentAction | None  # None: no `action:` line (not the registry flow's tag)
    previous: str | None
    by: str | None
    note: str | None
    run_url: str | None


def _note_and_run(tail: list[str]) -> tuple[str | None, str | None]:
    """A release tag ends with `note:` and the note's lines, then `ci run: URL` (each optional)."""
    run_url = tail.pop()[len(_RUN) :] if tail and tail[-1].startswith(_RUN) else None
    if tail and tail[0] == "note:":
        return "\n".join(tail[1:]), run_url
    return None, run_url


def read_release(message: str | None) -> ReleaseRecord | None:
    """The lineage of a release tag's message, or None when it is not one the engine wrote."""
    lines = (message or "").rstrip("\n").split("\n")
    if not lines[0].startswith("Release ") or "params:" not in lines:
        return None
    head = {key: value for key, _, value in (line.partition(": ") for line in lines[1 : lines.index("params:")])}
    data = _DATA.match(head.get("data", ""))
    environment = head.get("environment")
    after_metrics = lines.index("metrics:") + 1 if "metrics:" in lines else len(lines)
    listed = lines[lines.index("params:") + 1 : after_metrics - 1]
    params = {key.strip(): value for key, _, value in (line.partition(": ") for line in listed)}
    rest = lines[after_metrics:]
    while rest and rest[0].startswith("  "):  # the metrics' own lines
        rest.pop(0)
    note, run_url = _note_and_run(rest)
    return ReleaseRecord(
        commit=head.get("code commit"),
        data_hash=data["hash"] if data else None,
        rows=int(data["rows"]) if data and data["rows"] else None,
        environment=None if environment in (None, "not recorded") else environment,
        params=params,
        note=note,
        run_url=run_url,
    )


def read_stage(message: str | None) -> StageRecord:
    """The assignment a stage tag's message records; fields it lacks are None."""
    lines = (message or "").rstrip("\n").split("\n")
    note_at = lines.index("note:") if "note:" in lines else len(lines)
    head = {key: value for key, _, value in (line.partition(": ") for line in lines[1:note_at])}
    action = head.get("action")
    previous = head.get("previous")
    return StageRecord(
        action=AssignmentAction(action) if action in set(AssignmentAction) else None,
        previous=None if previous in (None, "none") else previous,
        by=head.get("by"),
        note="\n".join(lines[note_at + 1 :]) if note_at < len(lines) else None,
        run_url=head.get("ci run"),
    )
