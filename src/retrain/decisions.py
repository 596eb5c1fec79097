"""The release engine's decisions as pure functions (no git, no DVC, no S3): unit-tested on their own."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from retrain import versioning
from retrain.registry import EventKind
from retrain.untrusted import safe_for_commit

# The git trailer that ends the engine's own commits (the dvc.lock commit of a release): the engine recognises its
# commits by it, and so do the CI files (a job-level `if:` on GitHub, a build condition on Travis), so that the push
# of a release commit releases nothing again. Deliberately NOT a skip instruction: GitHub starts no `push` or
# `pull_request` workflow for a head commit saying `[skip ci]` (or `skip-checks: true`), and a required check then
# stays "Pending" and blocks the merge, e.g. of a develop -> main pull request whose head is the release commit
# (GitHub docs, "Skipping workflow runs").
COMMIT_TRAILER = "Retrain-Commit"
COMMIT_MARK = f"{COMMIT_TRAILER}: release"
LEGACY_MARK = "[skip ci]"  # what the engine's commits said before: still recognised, so older local commits are too


@dataclass(frozen=True)
class ReleaseState:
    """Where the current commit stands against the releases."""

    base: versioning.TaggedVersion | None  # the latest release of the artifact on this commit's history
    on_head: str | None  # the newest release tag already on this commit
    lock_changed: bool  # dvc.lock differs from the base's
    ignored: tuple[str, ...] = ()  # release tags off this commit's history: never a base, named in the output
    taken: frozenset[str] = frozenset()  # every release tag anywhere: a new version never reuses one

    @property
    def base_tag(self) -> str | None:
        return self.base.tag if self.base else None

    @property
    def releases(self) -> bool:
        """A new release is due: nothing released on this commit, and the pipeline differs from the latest release."""
        return self.on_head is None and self.lock_changed


def release_state(
    tags: Mapping[str, str],
    head: str,
    artifact: str,
    lock: str,
    base_lock: str | None,
    every: Mapping[str, str] | None = None,
) -> ReleaseState:
    """`tags`: release tag -> commit, those on HEAD's history; `every`: all release tags (default: `tags`);
    `lock`/`base_lock`: dvc.lock now and at the latest release on the history."""
    every = tags if every is None else every
    base = versioning.latest(list(tags), artifact)
    on_head = versioning.latest([tag for tag, sha in tags.items() if sha == head], artifact)
    changed = base is None or base_lock != lock
    ignored = tuple(sorted(tag for tag in every if tag not in tags))
    return ReleaseState(
        base=base,
        on_head=on_head.tag if on_head else None,
        lock_changed=changed,
        ignored=ignored,
        taken=frozenset(every),
    )


def stale_local_tags(local: Mapping[str, str], remote: Mapping[str, str], head: str) -> dict[str, str]:
    """Local release tags to delete before a pushing run, each with why: origin's tags win; a tag origin lacks is
    kept only on HEAD (a release made here and not pushed yet, which this run pushes)."""
    stale = {}
    for tag, sha in local.items():
        if tag in remote and remote[tag] != sha:
            stale[tag] = "differed from origin's: replaced by origin's"
        elif tag not in remote and sha != head:
            stale[tag] = "never reached origin and is not on HEAD: removed"
    return stale


@dataclass(frozen=True)
class GateVerdict:
    passed: bool
    metric: str
    new: float
    old: float | None
    allowed: float  # the largest change for the worse that passes, in the metric's units
    lower_is_better: bool = False
    base: str | None = None  # the release compared with, when it is not the latest (whose metrics were unreadable)
    unread: str | None = None  # the releases whose metrics could not be read, and why

    @property
    def reason(self) -> str:
        if self.old is None and self.unread:
            return f"no release to compare with ({self.unread}): {self.metric} {self.new:.4f}"
        if self.old is None:
            return f"first release: {self.metric} {self.new:.4f}"
        change = self.new - self.old
        verdict = "passed" if self.passed else "failed"
        worse = "rise" if self.lower_is_better else "drop"
        against = f"{self.base}, the latest release whose metrics could be read" if self.base else "the latest release"
        return (
            f"gate {verdict}: {self.metric} {self.new:.4f} vs {self.old:.4f} in {against} "
            f"(change {change:+.4f}, largest {worse} allowed {self.allowed:.4f})"
        )


def gate(
    metric: str,
    new: float,
    old: float | None,
    max_regression: float,
    lower_is_better: bool = False,
    relative: bool = False,
    base: str | None = None,
    unread: str | None = None,
) -> GateVerdict:
    """Pass unless the primary metric got worse than the latest release's by more than `max_regression`: worse is a
    drop, or (`lower_is_better`: a loss, RMSE, latency) a rise; `relative`: a fraction of the release's value."""
    allowed = max_regression * abs(old) if relative and old is not None else max_regression
    worsened = 0.0 if old is None else (new - old if lower_is_better else old - new)
    passed = old is None or worsened <= allowed + 1e-12
    return GateVerdict(passed, metric, new, old, allowed, lower_is_better, base, unread)


def lost_batches(released: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """Batches of a release that are gone or changed now: raw data is append-only."""
    return sorted(path for path, oid in released.items() if now.get(path) != oid)


def has_commit_mark(message: str) -> bool:
    """The message ends with the engine's trailer (in its last paragraph), or its subject with the legacy mark."""
    paragraphs = [part.strip() for part in message.strip().split("\n\n") if part.strip()]
    if not paragraphs:
        return False
    trailers = paragraphs[-1].splitlines() if len(paragraphs) > 1 else []
    return COMMIT_MARK in (line.strip() for line in trailers) or paragraphs[0].splitlines()[0].endswith(LEGACY_MARK)


def is_engine_commit(message: str, changed: Collection[str], engine_owned: Collection[str]) -> bool:
    """A commit the engine made: marked, and touching only the files a run rewrites."""
    return has_commit_mark(message) and set(changed) <= set(engine_owned)


def changed_inputs(changed: Collection[str], inputs: Collection[str], dvc_files: Collection[str]) -> list[str]:
    """The changed files that a reproduction depends on: a stage's input (a file, or anything in an input folder),
    or a DVC file (`dvc_files`: dvc.yaml, dvc.lock; any `*.dvc` counts too)."""
    found = []
    for name in changed:
        is_input = any(name == path or name.startswith(f"{path}/") for path in inputs)
        if is_input or name in dvc_files or name.endswith(".dvc"):
            found.append(name)
    return sorted(found)


def commit_message(
    added_rows: int,
    changed_params: Mapping[str, tuple[Any, Any]],
    metric: str,
    value: float,
    extra: Mapping[str, float],
) -> str:
    """`retrain: +N rows; key old->new; metric value, ...`: what changed, in one subject line; then the trailer."""
    parts = [f"{added_rows:+,} rows"] if added_rows else []
    parts += [f"{key} {old}->{new}" for key, (old, new) in changed_params.items()]
    shown = {metric: value, **{key: number for key, number in extra.items() if key != metric}}
    parts.append(", ".join(f"{key} {number:.4f}" for key, number in shown.items()))
    # Names and values come from the pipeline's own files: one line, with no skip instruction or trailer in it.
    return f"retrain: {safe_for_commit('; '.join(parts))}\n\n{COMMIT_MARK}\n"


# --- promotion and rollback ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Assigned:
    """One assignment of a stage, in the order they were made: the version, and whether it was a rollback."""

    version: str
    rollback: bool


def serving_stack(assignments: Sequence[Assigned]) -> list[str]:
    """The versions that served a stage, oldest at the bottom, each once: a promotion puts its version on top
    (moving it there if it served before), a rollback first takes the top off (the version rolled back from)."""
    stack: list[str] = []
    for assigned in assignments:
        if assigned.rollback and stack:
            stack.pop()
        if assigned.version in stack:
            stack.remove(assigned.version)
        stack.append(assigned.version)
    return stack


def rollback_target(stack: Sequence[str], current: str, retired: Collection[str]) -> str | None:
    """The version a rollback assigns: the nearest one below the current in the stack that was not deregistered
    meanwhile; None when there is none."""
    below = list(stack[: stack.index(current)]) if current in stack else list(stack)
    for version in reversed(below):
        if version != current and version not in retired:
            return version
    return None


def retired_versions(events: Sequence[tuple[EventKind, str]]) -> set[str]:
    """Versions whose latest registration event, of (kind, version) pairs oldest first, is a deregistration."""
    latest: dict[str, EventKind] = {}
    for kind, version in events:
        if kind in (EventKind.REGISTRATION, EventKind.DEREGISTRATION):
            latest[version] = kind
    return {version for version, kind in latest.items() if kind is EventKind.DEREGISTRATION}


def stage_tag_time(now: int, latest: int | None) -> int:
    """When to date a new stage tag, in whole seconds as git records it: GTO and `dvc artifacts get` order a
    stage's tags by that date alone, so each new one must be later than every tag already there, even within one
    second, or on a machine whose clock is behind."""
    return now if latest is None else max(now, latest + 1)


def release_tag_of(text: str, artifact: str, known: Collection[str]) -> str | None:
    """The release tag a user means by `v1.2.0`, `1.2.0` or `model@v1.2.0`, if it is one of `known`."""
    name = text.strip()
    if "@" not in name:
        name = f"{artifact}@{name if name.startswith('v') else 'v' + name}"
    return name if name in known and versioning.parse_tag(name, artifact) is not None else None


def pointer_is_newer(published_at_assignment: str | None, ours: str) -> bool:
    """A serving pointer already names an assignment made after ours (ISO-8601 UTC times compare as text): a
    deploy that started earlier must not flip it back."""
    return published_at_assignment is not None and published_at_assignment > ours
