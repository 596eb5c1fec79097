"""GTO edge: the model registry that GTO's git tags make, read with GTO's own API (`gto.api`), and the names of new
stage tags drawn by GTO (`artifact#stage#N`, `artifact#stage!#N`). GTO is called here and nowhere else in the engine
(versioning.py only names and parses release tags with it).

The allowed stages are GTO's: the `stages:` list of the repository's `.gto` file, which GTO itself enforces.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from retrain.errors import BadInputError, RetrainError

GTO_CONFIG = ".gto"


@dataclass(frozen=True)
class Holding:
    """A stage that a version holds now (an assignment nothing undid since)."""

    stage: str
    version: str  # "v1.2.0"
    commit: str
    since: datetime  # when the assignment in effect was made
    tag: str  # the stage tag of that assignment, e.g. "model#prod#4"
    message: str


class EventKind(StrEnum):
    """The kind of a registry event: GTO's `event` field (its event class's name, lower case). A str, so it
    formats, compares and serializes as GTO's word."""

    CREATION = "creation"
    DEPRECATION = "deprecation"
    REGISTRATION = "registration"
    DEREGISTRATION = "deregistration"
    ASSIGNMENT = "assignment"
    UNASSIGNMENT = "unassignment"


@dataclass(frozen=True)
class Event:
    """One registry event: a registration, deregistration, assignment or unassignment (GTO's history)."""

    kind: EventKind
    version: str | None
    stage: str | None
    tag: str
    at: datetime
    message: str


@dataclass(frozen=True)
class RegistryTag:
    """What a GTO tag's name says (GTO's own parser): its kind, and the version or stage it names."""

    kind: EventKind
    version: str | None  # "v1.2.0", for a registration or deregistration
    stage: str | None  # for an assignment or unassignment
    counter: int  # GTO's `#N`, 0 when the name has none


def parse_tag_name(name: str, artifact: str) -> RegistryTag | None:
    """The registry event a tag of `artifact` names, or None for any other tag. Pure: no git, no GTO registry."""
    from gto.constants import ACTION, COUNTER, NAME, STAGE, VERSION, Action
    from gto.tag import parse_name

    parsed = parse_name(name, raise_on_fail=False)
    if parsed.get(NAME) != artifact or ACTION not in parsed:
        return None
    kinds = {
        Action.REGISTER: EventKind.REGISTRATION,
        Action.DEREGISTER: EventKind.DEREGISTRATION,
        Action.ASSIGN: EventKind.ASSIGNMENT,
        Action.UNASSIGN: EventKind.UNASSIGNMENT,
        Action.DEPRECATE: EventKind.DEPRECATION,
    }
    return RegistryTag(kinds[parsed[ACTION]], parsed.get(VERSION), parsed.get(STAGE), parsed.get(COUNTER, 0))


def iso(moment: datetime) -> str:
    """A registry time as ISO 8601 in UTC, to the second (what git records)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@contextmanager
def _gto() -> Iterator[None]:
    """GTO's own errors as one actionable line."""
    from gto.exceptions import GTOException, WrongConfig

    try:
        yield
    except WrongConfig:
        raise BadInputError(
            f"{GTO_CONFIG}: not a valid GTO config; it should read like `stages: [dev, staging, prod]`."
        ) from None
    except GTOException as error:
        raise RetrainError(f"GTO could not read the model registry: {error}") from None


def allowed_stages(root: Path) -> list[str]:
    """The stages `.gto` allows, in its order (promotion order by convention)."""
    from gto.config import read_registry_config

    with _gto():
        stages = read_registry_config(str(root / GTO_CONFIG)).stages
    if not stages:
        raise BadInputError(
            f"{GTO_CONFIG} lists no stages, so any typo would make a new one: add `stages: [dev, staging, prod]` "
            "(the stages a version may be promoted to) and commit it."
        )
    return list(stages)


def check_stage(root: Path, stage: str) -> None:
    """Refuse a stage `.gto` does not allow, by GTO's own check."""
    from gto.config import read_registry_config
    from gto.exceptions import UnknownStage, ValidationError

    allowed = allowed_stages(root)
    try:
        read_registry_config(str(root / GTO_CONFIG)).assert_stage(stage)
    except (UnknownStage, ValidationError):
        raise BadInputError(
            f"unknown stage `{stage}`: {GTO_CONFIG} allows {', '.join(allowed)}; add it there to allow it."
        ) from None


def holdings(root: Path, artifact: str) -> list[Holding]:
    """Every stage every active version holds now, newest assignment first (all assignments in effect, not only
    the one GTO shows per stage)."""
    from gto.api import show
    from gto.constants import VersionSort
    from gto.exceptions import ArtifactNotFound

    with _gto():
        try:
            versions = show(str(root), artifact, versions_per_stage=-1, sort=VersionSort.Timestamp)
        except ArtifactNotFound:
            return []
    found = [
        Holding(
            stage=vstage["stage"],
            version=version["version"],
            commit=version["commit_hexsha"],
            since=vstage["activated_at"],
            tag=vstage["ref"],
            message=vstage["message"],
        )
        for version in versions
        for vstage in version["stages"]
    ]
    return sorted(found, key=lambda holding: holding.since, reverse=True)


def holder(root: Path, artifact: str, stage: str) -> Holding | None:
    """The version in `stage`, exactly as `gto show artifact#stage` answers (GTO's default: the latest assignment
    still in effect); None when the stage holds nothing."""
    from gto.api import show
    from gto.constants import VersionSort
    from gto.exceptions import ArtifactNotFound

    with _gto():
        try:
            versions = show(str(root), f"{artifact}#{stage}", sort=VersionSort.Timestamp)
        except ArtifactNotFound:
            return None
    for version in versions:
        for vstage in version["stages"]:
            if vstage["stage"] == stage:
                return Holding(
                    stage=stage,
                    version=version["version"],
                    commit=version["commit_hexsha"],
                    since=vstage["activated_at"],
                    tag=vstage["ref"],
                    message=vstage["message"],
                )
    return None


def history(root: Path, artifact: str) -> list[Event]:
    """The artifact's registry events, oldest first (GTO's `history`)."""
    from gto.api import history as gto_history

    with _gto():
        events = gto_history(str(root), artifact, ascending=True)
    return [
        Event(
            kind=EventKind(event["event"]),
            version=event.get("version"),
            stage=event.get("stage"),
            tag=event["ref"],
            at=event["timestamp"],
            message=event.get("message") or "",
        )
        for event in events
    ]


def stage_tag_name(root: Path, artifact: str, stage: str, unassign: bool = False) -> str:
    """The next stage tag GTO would make: `artifact#stage#N` (or `artifact#stage!#N` to unassign), N one more than
    the artifact's highest counter among the local tags."""
    from gto.constants import Action
    from gto.tag import name_tag
    from scmrepo.git import Git

    scm = Git(str(root))
    try:
        with _gto():
            name: str = name_tag(Action.UNASSIGN if unassign else Action.ASSIGN, artifact, stage=stage, scm=scm)
            return name  # GTO leaves name_tag's return unannotated
    finally:
        scm.close()
