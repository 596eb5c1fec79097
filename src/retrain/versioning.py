"""Release versions, the quality gate and the tag's lineage message: pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from gto.constants import ACTION, NAME, VERSION, Action
from gto.tag import name_tag, parse_name

from retrain.untrusted import printable

FIRST_VERSION = (1, 0, 0)


class Bump(Enum):
    MAJOR = "major"
    MINOR = "minor"  # the data changed
    PATCH = "patch"  # only params or code changed


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"v{self.major}.{self.minor}.{self.patch}"

    def bump(self, kind: Bump) -> Version:
        if kind is Bump.MAJOR:
            return Version(self.major + 1, 0, 0)
        if kind is Bump.MINOR:
            return Version(self.major, self.minor + 1, 0)
        return Version(self.major, self.minor, self.patch + 1)


def parse_tag(tag: str, artifact: str) -> Version | None:
    """The version of a GTO release tag `artifact@vX.Y.Z` (parsed by GTO), or None for any other tag (another
    artifact, a stage assignment, a deregistration, a pre-release)."""
    parsed = parse_name(tag, raise_on_fail=False)
    if parsed.get(NAME) != artifact or parsed.get(ACTION) is not Action.REGISTER:
        return None
    numbers = str(parsed[VERSION]).removeprefix("v").split(".")
    if not all(part.isdigit() for part in numbers):
        return None
    major, minor, patch = (int(part) for part in numbers)
    return Version(major, minor, patch)


def tag_name(artifact: str, version: Version) -> str:
    name: str = name_tag(Action.REGISTER, artifact, str(version), simple=True)
    return name  # GTO leaves name_tag's return unannotated


@dataclass(frozen=True)
class TaggedVersion:
    """A release tag and the version it names."""

    tag: str  # e.g. model@v1.2.0
    version: Version


def latest(tags: list[str], artifact: str) -> TaggedVersion | None:
    """The release of `artifact` with the highest version among `tags`, or None when none is a release of it."""
    valid = [TaggedVersion(tag, version) for tag in tags if (version := parse_tag(tag, artifact)) is not None]
    return max(valid, key=lambda found: found.version) if valid else None


def next_version(previous: Version | None, data_changed: bool, major: bool) -> Version:
    if previous is None:
        return Version(*FIRST_VERSION)
    if major:
        return previous.bump(Bump.MAJOR)
    return previous.bump(Bump.MINOR if data_changed else Bump.PATCH)


def next_free_version(previous: Version | None, data_changed: bool, major: bool, taken: Collection[Version]) -> Version:
    """`next_version`, bumped again the same way while a tag anywhere has that number: the base is the latest release
    on the commit's history, but a version is never given twice (a tag off that history may hold the next one)."""
    version = next_version(previous, data_changed, major)
    kind = Bump.MAJOR if major else Bump.MINOR if data_changed else Bump.PATCH
    while version in taken:
        version = version.bump(kind) if previous is not None else version.bump(Bump.MAJOR)
    return version


@dataclass(frozen=True)
class Lineage:
    commit: str
    data_hash: str
    rows: int | None  # from the data statistics, when the project keeps them
    batches: int | None
    params: dict[str, Any]
    metrics: dict[str, Any]  # named as retrain.metrics.flatten names them
    note: str | None
    run_url: str | None
    environment: str | None = None  # retrain.environment.recorded: the lock file's md5, or the installed packages'


def tag_message(tag: str, lineage: Lineage) -> str:
    """The annotated tag's message: a subject line, then the lineage a reviewer needs to trust the model."""
    params = "\n".join(f"  {key}: {value}" for key, value in sorted(lineage.params.items()))
    # metric names come from the project's files: one visible line each, so that none forges a lineage line
    metrics = "\n".join(
        f"  {printable(key)}: {value}" for key, value in sorted(lineage.metrics.items()) if not isinstance(value, dict)
    )
    lines = [
        f"Release {tag}",
        "",
        f"code commit: {lineage.commit}",
        f"data: {lineage.data_hash}{_data_size(lineage)}",
        f"environment: {lineage.environment or 'not recorded'}",
        "params:",
        params,
        "metrics:",
        metrics,
    ]
    if lineage.note:
        lines += ["note:", lineage.note]
    if lineage.run_url:
        lines.append(f"ci run: {lineage.run_url}")
    return "\n".join(lines) + "\n"


def _data_size(lineage: Lineage) -> str:
    if lineage.rows is None:
        return ""
    return (
        f" ({lineage.rows} rows in {lineage.batches} batches)"
        if lineage.batches is not None
        else f" ({lineage.rows} rows)"
    )


def flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'train': {'C': 1}} -> {'train.C': 1}."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def changed_params(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Flattened keys whose value differs: key -> (old, new)."""
    before, after = flatten(old), flatten(new)
    return {
        key: (before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


# --- stage tags (promotion and rollback) ---------------------------------------------------------------------
class AssignmentAction(StrEnum):
    """What a stage tag's `action:` line says; a str, so it formats, compares and serializes as the word."""

    PROMOTE = "promote"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class Assignment:
    """What an annotated stage tag records: who assigned which release to which stage, why, and what it replaced."""

    action: AssignmentAction
    stage: str
    release: str  # e.g. model@v1.2.0
    previous: str | None  # the release that held the stage until now
    by: str
    note: str | None
    run_url: str | None


def assignment_message(assignment: Assignment) -> str:
    """The assign tag's message: a subject, then `action:` (how `retrain rollback` tells rollbacks apart), the
    release replaced, who, and the note."""
    if assignment.action is AssignmentAction.ROLLBACK:
        subject = f"Roll back {assignment.stage} from {assignment.previous} to {assignment.release}"
    else:
        subject = f"Promote {assignment.release} to {assignment.stage}"
    return _stage_message(subject, assignment)


def unassignment_message(assignment: Assignment, release: str) -> str:
    """The message of the tag that takes `release` out of the stage as `assignment` replaces it."""
    subject = f"Unassign {assignment.stage} from {release}: replaced by {assignment.release}"
    return _stage_message(subject, assignment)


def _stage_message(subject: str, assignment: Assignment) -> str:
    lines = [subject, "", f"action: {assignment.action}", f"previous: {assignment.previous or 'none'}"]
    lines.append(f"by: {assignment.by}")
    if assignment.run_url:
        lines.append(f"ci run: {assignment.run_url}")
    if assignment.note:
        lines += ["note:", assignment.note]
    return "\n".join(lines) + "\n"


def made_by_registry(message: str, stage: str, release: str) -> bool:
    """Whether a stage tag's message is what `retrain promote` or `retrain rollback` writes for assigning `stage` to
    `release`: its subject names both, then the `action:` and `by:` lines (before any free-text note)."""
    lines = message.splitlines()
    if not lines:
        return False
    subject = lines[0]
    promoted = subject == f"Promote {release} to {stage}"
    rolled_back = subject.startswith(f"Roll back {stage} from ") and subject.endswith(f" to {release}")
    head = lines[1 : lines.index("note:")] if "note:" in lines else lines[1:]
    actions = {line.removeprefix("action: ") for line in head if line.startswith("action: ")}
    expected = AssignmentAction.PROMOTE if promoted else AssignmentAction.ROLLBACK if rolled_back else None
    return expected is not None and actions == {expected} and any(line.startswith("by: ") for line in head)


def is_rollback(message: str) -> bool:
    """A stage tag made by `retrain rollback` (its `action:` line, which precedes any free-text note)."""
    for line in message.splitlines():
        if line.startswith("action: "):
            return line == f"action: {AssignmentAction.ROLLBACK}"
        if line == "note:":
            break
    return False
