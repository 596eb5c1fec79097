"""`retrain promote`, `retrain rollback` and `retrain which`: which release serves each stage.

A stage assignment is a GTO stage tag (`model#prod#N`) on the release's commit, annotated with who, why and what it
replaced. Every promotion also unassigns the stage from the versions that held it (`model#prod!#N`), so that one
version holds a stage whichever way a reader sorts (GTO by time or by version, `dvc artifacts get` by the latest
tag). The tags are pushed to origin in one atomic push, never forced; when another promotion took the same tag
names first, the local tags are dropped and the promotion is made again on top of origin's registry.

One module for the three verbs (retrain/commands/promote.py, rollback.py and which.py call it), not three: they
share the registry's reading (_Registry, the holder of a stage), the availability check and the tagging, and
`which` is also what `retrain publish` asks before it publishes.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrain import decisions, gitops, layout, origin, project, registry, versioning
from retrain.errors import BadInputError, OriginUnreachableError, PushRejectedError, RetrainError
from retrain.pushes import MAX_PUSH_ATTEMPTS, with_retries
from retrain.registry import EventKind, Holding
from retrain.releases import outputs_at
from retrain.versioning import Assignment, AssignmentAction

GAVE_UP = ". Nothing changed: the tags were removed here. Re-run when origin accepts the push."


@dataclass(frozen=True)
class _Registry:
    root: Path
    artifact: str
    stage: str
    pushes: bool  # the clone has an origin: tags are pushed there

    def release(self, version: str) -> str:
        return f"{self.artifact}@{version}"

    def holder(self) -> Holding | None:
        return registry.holder(self.root, self.artifact, self.stage)

    def read_again(self, rejected: Exception, attempt: int) -> None:
        """After a refused push (its tags dropped): origin's registry, before the next attempt."""
        origin.sync_registry(self.root, self.artifact)
        print(
            f"       {rejected}: another promotion got there first; read origin's registry again "
            f"(attempt {attempt + 1} of {MAX_PUSH_ATTEMPTS})",
            file=sys.stderr,
            flush=True,
        )


def _open(root: Path, stage: str) -> _Registry:
    artifact, _ = project.artifact(root)
    registry.check_stage(root, stage)
    pushes = origin.sync_registry(root, artifact)
    return _Registry(root, artifact, stage, pushes)


def promote(root: Path, version: str, stage: str, note: str | None, remote: str | None) -> str:
    """Assign `stage` to a release whose objects are all in the DVC remote; return what happened, in one line."""
    reg = _open(root, stage)
    releases = gitops.tags(root, layout.release_glob(reg.artifact))
    release = decisions.release_tag_of(version, reg.artifact, releases)
    if release is None:
        raise BadInputError(
            f"unknown version `{version}`: no such release of {reg.artifact} (latest: {_latest(releases, reg)}); "
            "`retrain releases` lists them (after `git fetch --tags` if it was made elsewhere). Nothing changed."
        )
    wanted = release.split("@", 1)[1]
    if wanted in _retired(reg):
        raise BadInputError(
            f"{release} was deregistered (deprecated) in the registry: it cannot serve {stage}. Choose another "
            "version (`retrain releases`). Nothing changed."
        )
    _check_available(root, release, remote, f"cannot promote {release} to {stage}")

    def attempt(_: int) -> str:
        current = reg.holder()
        if current is not None and current.version == wanted:
            since = registry.iso(current.since)
            return f"{release} already serves {stage} (since {since}, tag {current.tag}): nothing to do"
        previous = reg.release(current.version) if current else None
        assignment = _assignment(root, AssignmentAction.PROMOTE, stage, release, previous, note)
        made = _assign(reg, assignment, releases[release])
        _publish(reg, made)
        return f"promoted {release} to {stage} (tag {made[-1]}{_where(reg)}); before: {previous or 'nothing'}"

    return with_retries(attempt, reg.read_again, GAVE_UP)


def rollback(root: Path, stage: str, note: str | None, remote: str | None) -> str:
    """Give `stage` back to the version that served it before the current one (skipping deregistered ones)."""
    reg = _open(root, stage)
    current = reg.holder()
    if current is None:
        raise BadInputError(
            f"nothing to roll back: no version holds {stage}. Promote one with "
            f"`retrain promote VERSION --stage {stage}`."
        )
    target = _rollback_target(reg, current)
    now = reg.release(current.version)
    if target is None:
        raise BadInputError(
            f"cannot roll back {stage}: no earlier version served it before {now} (or those that did were "
            f"deregistered). Promote one with `retrain promote VERSION --stage {stage}`. Nothing changed."
        )
    release = reg.release(target)
    _check_available(root, release, remote, f"cannot roll back {stage} to {release}")
    commit = gitops.tags(root, release)[release]

    def attempt(number: int) -> str:
        moved = reg.holder() if number > 1 else current  # after a refused push: origin's registry, read again
        if number > 1 and moved is not None and moved.version == target:  # the same rollback, by someone else
            return f"{stage} was rolled back to {release} meanwhile (tag {moved.tag}): nothing to do"
        if moved is None or moved.version != current.version:
            shown = reg.release(moved.version) if moved else "nothing"
            raise RetrainError(
                f"{stage} changed on origin meanwhile: it now holds {shown}"
                f"{f' (tag {moved.tag})' if moved else ''}, so rolling back from {now} no longer applies. "
                f"Nothing was pushed; check `retrain which --stage {stage}` and re-run if still wanted."
            )
        assignment = _assignment(root, AssignmentAction.ROLLBACK, stage, release, now, note)
        made = _assign(reg, assignment, commit)
        _publish(reg, made)
        return (
            f"rolled back {stage} from {now} to {release}, the version that served {stage} before it "
            f"(tag {made[-1]}{_where(reg)})"
        )

    return with_retries(attempt, reg.read_again, GAVE_UP)


def which(root: Path, stage: str) -> tuple[str, Holding]:
    """(release tag, holding) of the version in `stage`, as `gto show model#stage` answers."""
    artifact, _ = project.artifact(root)
    registry.check_stage(root, stage)
    held = registry.holder(root, artifact, stage)
    if held is None:
        raise RetrainError(f"no version holds {stage} yet: promote one with `retrain promote VERSION --stage {stage}`.")
    return f"{artifact}@{held.version}", held


def check_trusted(root: Path, release: str, held: Holding) -> None:
    """Refuse to act on a stage tag that anyone could have pushed: it must sit on a release of this checkout's
    history (CI publishes from `develop`) and read as the registry flow (`retrain promote`/`rollback`) writes it."""
    on_history = gitops.tags(root, release, merged_into="HEAD")
    branch = gitops.git(root, "rev-parse", "--abbrev-ref", "HEAD")  # "HEAD" when detached
    fix = (
        f"Delete it on origin (`git push origin :refs/tags/{held.tag}`) and assign the stage with `retrain promote` "
        "or `retrain rollback`; nothing was published."
    )
    if on_history.get(release) != held.commit:
        raise BadInputError(
            f"stage tag {held.tag} assigns {held.stage} to {release}, which is not a release on {branch}'s history "
            f"(commit {held.commit[:8]}): a stage counts only on a release of the branch releases are made on. {fix}"
        )
    if not versioning.made_by_registry(held.message, held.stage, release):
        raise BadInputError(
            f"stage tag {held.tag} was not made by the registry flow (its message lacks the subject, `action:` and "
            f"`by:` lines that `retrain promote` writes). {fix}"
        )


def which_json(release: str, held: Holding) -> dict[str, Any]:
    return {
        "stage": held.stage,
        "version": held.version,
        "release": release,
        "commit": held.commit,
        "since": registry.iso(held.since),
        "tag": held.tag,
    }


# --- the steps ------------------------------------------------------------------------------------------------
def _retired(reg: _Registry) -> set[str]:
    events = registry.history(reg.root, reg.artifact)
    return decisions.retired_versions([(event.kind, event.version or "") for event in events])


def _rollback_target(reg: _Registry, current: Holding) -> str | None:
    events = registry.history(reg.root, reg.artifact)
    assigned = [
        decisions.Assigned(event.version or "", versioning.is_rollback(event.message))
        for event in events
        if event.kind is EventKind.ASSIGNMENT and event.stage == reg.stage
    ]
    retired = decisions.retired_versions([(event.kind, event.version or "") for event in events])
    return decisions.rollback_target(decisions.serving_stack(assigned), current.version, retired)


def _check_available(root: Path, release: str, remote: str | None, refusal: str) -> None:
    """Every object the release names (data, processed data, model), checked one by one in the DVC remote: a
    stage must never point at a snapshot that cannot be fetched."""
    from retrain.dvcops import Pipeline
    from retrain.remotes import check_reachable

    pipeline = Pipeline(root, remote)
    try:
        check_reachable(pipeline.remote, pipeline.remote_config, root)
        missing = pipeline.missing_in_remote(sorted(outputs_at(root, release).items()))
    finally:
        pipeline.close()
    if missing:
        shown = ", ".join(f"{item.label} ({item.oid})" for item in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise BadInputError(
            f"{refusal}: {len(missing)} of its object(s) are missing from DVC remote `{pipeline.remote}`: "
            f"{shown}{more}. Nothing changed. Push them from a machine that has them (`git checkout {release} && "
            f"dvc push -r {pipeline.remote}`), or choose another version."
        )


def _assignment(
    root: Path, action: AssignmentAction, stage: str, release: str, previous: str | None, note: str | None
) -> Assignment:
    from retrain.steps import run_url

    by = os.environ.get("RETRAIN_ACTOR") or os.environ.get("GITHUB_ACTOR") or gitops.user_name(root) or "unknown"
    return Assignment(action, stage, release, previous, by, note, run_url())


def _assign(reg: _Registry, assignment: Assignment, commit: str) -> list[str]:
    """Tag the stage's other holders out and the release in, each tag dated after every tag of the artifact;
    the assignment comes last. Returns the tags made, in order; on failure none is left."""
    root, artifact, stage = reg.root, reg.artifact, reg.stage
    wanted = assignment.release.split("@", 1)[1]
    others = [held for held in registry.holdings(root, artifact) if held.stage == stage and held.version != wanted]
    dates = gitops.tag_times(root, layout.registry_glob(artifact))
    date = decisions.stage_tag_time(int(time.time()), max(dates.values(), default=None))
    made: list[str] = []
    try:
        for held in reversed(others):
            name = registry.stage_tag_name(root, artifact, stage, unassign=True)
            message = versioning.unassignment_message(assignment, reg.release(held.version))
            gitops.create_tag(root, name, message, target=held.commit, date=date)
            made.append(name)
            date += 1
        name = registry.stage_tag_name(root, artifact, stage)
        gitops.create_tag(root, name, versioning.assignment_message(assignment), target=commit, date=date)
        made.append(name)
    except BaseException:
        _drop(root, made)
        raise
    return made


def _publish(reg: _Registry, made: list[str]) -> None:
    """Push the tags; when origin had taken those names, the tags are dropped and PushRejectedError raised (the
    caller reads origin's registry again, _Registry.read_again, and retries)."""
    if not reg.pushes:
        return
    try:
        origin.push_stage_tags(reg.root, made)
    except PushRejectedError:
        _drop(reg.root, made)
        raise
    except OriginUnreachableError as error:
        _drop(reg.root, made)
        reason = str(error).split(";", 1)[0]
        raise RetrainError(
            f"{reason}; the tags {', '.join(made)} were removed here. Re-run when origin is reachable: it reads "
            "origin's registry first, so it also sees the promotion if the push reached origin before the failure."
        ) from None


def _latest(releases: dict[str, str], reg: _Registry) -> str:
    versions = [(version, tag) for tag in releases if (version := versioning.parse_tag(tag, reg.artifact))]
    return ", ".join(tag for _, tag in sorted(versions, reverse=True)[:3]) or "none yet"


def _drop(root: Path, made: list[str]) -> None:
    for name in made:
        gitops.delete_tag(root, name)


def _where(reg: _Registry) -> str:
    return ", pushed to origin" if reg.pushes else ", local only: this clone has no origin"
