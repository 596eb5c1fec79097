"""The release history of a project, read with a fixed number of processes however many releases there are: the
tags and their messages in one `git for-each-ref`, the params of every release in one `git cat-file --batch`, their
metrics and data statistics through retrain.dvcmetrics (the same batch where git has them, one DVC read for every
release where they live in DVC's cache or remote), and the merge commits in one `git log`."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from retrain import dvcmetrics, gitops, layout, project, registry, versioning
from retrain.history import lineage, stages
from retrain.history.model import (
    Deregistration,
    Gate,
    GatedRun,
    GatedRuns,
    History,
    ParamChange,
    Point,
    Reason,
    Release,
    StageAction,
    StageEvent,
    StageHistory,
    Trend,
)
from retrain.history.prs import shipped
from retrain.metrics import flatten, headline
from retrain.registry import EventKind
from retrain.versioning import Bump, Version

UNKNOWN = [
    "Pull requests are read from GitHub's default merge and squash subjects on each release's first-parent history "
    "since the previous release; a merge with another message is not seen, and the tags record none.",
    "A release made before the engine recorded lineage in its tag (or a tag made by hand) shows no data hash, "
    "note or CI run.",
]
GATED_NOTE = (
    "A gated run makes no tag and pushes nothing: the repository keeps no record of it. Its report is in "
    "its workflow run's summary and the pull requests' comments, which this page cannot read. Shown here: only the "
    "last run of this clone, when reports/run.json says it was gated."
)


def iso(seconds: int) -> str:
    return registry.iso(datetime.fromtimestamp(seconds, UTC))


def collect(root: Path) -> History:
    found = project.load(root)
    artifact, settings = found.artifact, found.config
    records = gitops.tag_records(root, layout.registry_glob(artifact))
    named = [(record, parsed) for record in records if (parsed := registry.parse_tag_name(record.name, artifact))]
    tagged = sorted(
        (version, record)
        for record, parsed in named
        if parsed.kind is EventKind.REGISTRATION and (version := versioning.parse_tag(record.name, artifact))
    )
    files = [found.metrics, *([found.data_stats] if found.data_stats else [])]
    gated_commit = _gated_commit(root)
    revs = list(dict.fromkeys([record.commit for _, record in tagged] + ([gated_commit] if gated_commit else [])))
    texts = gitops.files_at(root, [(rev, layout.PARAMS_FILE) for rev in revs])
    read = dvcmetrics.read(root, [(rev, path) for rev in revs for path in files])

    retired = _retired(named)
    by_commit = {record.commit: str(version) for version, record in tagged}  # a stage tag names its release's commit
    histories = _stage_histories(named, by_commit, retired)
    held = stages.held_now(histories, retired)
    prs = shipped(root, [record.commit for _, record in tagged])
    releases: list[Release] = []
    previous: Release | None = None
    previous_params: dict[str, str] = {}
    for version, record in tagged:
        recorded = lineage.read_release(record.message)
        # The lineage's params, as the tag wrote them; a tag without one: params.yaml at its commit.
        params = recorded.params if recorded else _params(texts.get((record.commit, layout.PARAMS_FILE)))
        stats = dvcmetrics.mapping(read.get((record.commit, found.data_stats))) if found.data_stats else {}
        metrics = _numbers(dvcmetrics.mapping(read.get((record.commit, found.metrics))), settings.primary_metric)
        made = _release(version, record, recorded, previous, (previous_params, params), stats, metrics)
        made = replace(
            made,
            pull_requests=prs.get(record.commit, []),
            stages=held.get(str(version), []),
            deregistered=str(version) in retired,
        )
        releases.append(made)
        previous, previous_params = made, params
    gate = Gate(settings.primary_metric, settings.direction, settings.threshold, settings.max_regression)
    value = _numbers(dvcmetrics.mapping(read.get((gated_commit, found.metrics))), gate.metric) if gated_commit else {}
    return History(
        artifact=artifact,
        gate=gate,
        releases=releases[::-1],
        trends=_trends(releases, gate),
        stages=histories,
        deregistrations=[
            Deregistration(parsed.version or "", iso(record.date), record.name, record.tagger, record.message)
            for record, parsed in named
            if parsed.kind is EventKind.DEREGISTRATION
        ],
        gated=_gated(root, gated_commit, value.get(gate.metric)),
        unknown=UNKNOWN,
    )


def _release(
    version: Version,
    record: gitops.TagRecord,
    recorded: lineage.ReleaseRecord | None,
    previous: Release | None,
    params: tuple[dict[str, str], dict[str, str]],
    stats: dict[str, Any],
    metrics: dict[str, float],
) -> Release:
    data_hash = recorded.data_hash if recorded else None
    environment = recorded.environment if recorded else None
    changed = (
        [ParamChange(key, _text(old), _text(new)) for key, (old, new) in versioning.changed_params(*params).items()]
        if previous
        else []
    )
    reasons = [Reason.FIRST] if previous is None else []
    if previous is not None:
        reasons += [Reason.DATA] if data_hash != previous.data_hash else []
        reasons += [Reason.PARAMS] if changed else []
        reasons += [Reason.ENVIRONMENT] if environment != previous.environment else []
        reasons = reasons or [Reason.CODE]
    rows = stats.get("rows")
    return Release(
        tag=record.name,
        version=str(version),
        date=iso(record.date),
        commit=record.commit,
        bump=_bump(Version(*map(int, previous.version[1:].split("."))), version) if previous else None,
        reasons=reasons,
        rows=rows if isinstance(rows, int) else (recorded.rows if recorded else None),
        data_hash=data_hash,
        environment=environment,
        params_changed=changed,
        note=recorded.note if recorded else None,
        run_url=recorded.run_url if recorded else None,
        pull_requests=[],
        metrics=metrics,
        deregistered=False,
        lineage=recorded is not None,
    )


def _bump(old: Version, new: Version) -> Bump:
    if new.major != old.major:
        return Bump.MAJOR
    return Bump.MINOR if new.minor != old.minor else Bump.PATCH


def _retired(named: list[tuple[gitops.TagRecord, registry.RegistryTag]]) -> set[str]:
    """Versions whose latest registration event is a deregistration (GTO orders them by the tags' dates)."""
    from retrain.decisions import retired_versions

    events = sorted(
        (record.date, parsed.counter, parsed.kind, parsed.version or "")
        for record, parsed in named
        if parsed.kind in (EventKind.REGISTRATION, EventKind.DEREGISTRATION)
    )
    return retired_versions([(kind, version) for _, _, kind, version in events])


def _stage_histories(
    named: list[tuple[gitops.TagRecord, registry.RegistryTag]], by_commit: dict[str, str], retired: set[str]
) -> list[StageHistory]:
    per_stage: dict[str, list[stages.Tagged]] = {}
    for record, parsed in named:
        if parsed.kind not in (EventKind.ASSIGNMENT, EventKind.UNASSIGNMENT) or parsed.stage is None:
            continue
        said = lineage.read_stage(record.message)
        if parsed.kind is EventKind.UNASSIGNMENT:
            action = StageAction.UNASSIGN
        else:
            action = StageAction(said.action) if said.action else StageAction.ASSIGN
        event = StageEvent(
            stage=parsed.stage,
            action=action,
            version=by_commit.get(record.commit),
            at=iso(record.date),
            tag=record.name,
            by=said.by or record.tagger,
            previous=said.previous,
            note=said.note,
            run_url=said.run_url,
        )
        per_stage.setdefault(parsed.stage, []).append(stages.Tagged(event, record.date, parsed.counter))
    return [stages.timeline(stage, tagged, retired) for stage, tagged in sorted(per_stage.items())]


def _trends(releases: list[Release], gate: Gate) -> list[Trend]:
    """One trend per metric, oldest release first; the primary one with the gate's limit each release set."""
    names = list(dict.fromkeys(name for release in releases for name in release.metrics))
    found = []
    for name in names:
        primary = name == gate.metric
        points = [
            Point(release.version, release.metrics[name], _limit(release.metrics[name], gate) if primary else None)
            for release in releases
            if name in release.metrics
        ]
        found.append(Trend(name, primary, points))
    return sorted(found, key=lambda trend: not trend.primary)


def _limit(value: float, gate: Gate) -> float:
    """The worst primary metric the gate would let through against a release of `value` (decisions.gate's rule)."""
    allowed = gate.max_regression * abs(value) if gate.threshold == "relative" else gate.max_regression
    return value + allowed if gate.direction == "lower" else value - allowed


def _gated_commit(root: Path) -> str | None:
    summary = _json(_read(root / layout.RUN_SUMMARY))
    commit = summary.get("commit")
    return commit if summary.get("status") == "gated" and isinstance(commit, str) else None


def _gated(root: Path, commit: str | None, value: float | None) -> GatedRuns:
    if commit is None:
        return GatedRuns([], GATED_NOTE)
    when = iso(int((root / layout.RUN_SUMMARY).stat().st_mtime))
    return GatedRuns([GatedRun(commit, value, f"{layout.RUN_SUMMARY}, written {when}")], GATED_NOTE)


def _numbers(metrics: dict[str, Any], primary: str) -> dict[str, float]:
    """The primary metric first (an int counts), then the other float metrics, nested ones named as `dvc metrics
    show` names them, per-class breakdowns left out (retrain.metrics.headline)."""
    numbers = headline(flatten(metrics), primary)
    return {key: float(value) for key, value in numbers.items() if key == primary or isinstance(value, float)}


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _json(text: str | None) -> dict[str, Any]:
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _params(text: str | None) -> dict[str, str]:
    """params.yaml flattened, each value as text (as a tag's lineage writes it)."""
    try:
        found = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if text else {}  # noqa: S506
    except yaml.YAMLError:
        return {}
    return {key: str(value) for key, value in versioning.flatten(found).items()} if isinstance(found, dict) else {}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
