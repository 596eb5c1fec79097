"""The release engine's decisions as pure functions (no git, no DVC, no S3): unit-tested on their own."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from retrain import versioning

COMMIT_MARK = "[skip ci]"  # ends the engine's own commits: CI systems do not build them, the engine recognises them


@dataclass(frozen=True)
class ReleaseState:
    """Where the current commit stands against the releases."""

    base: tuple[str, versioning.Version] | None  # the latest release of the artifact, anywhere
    on_head: str | None  # the newest release tag already on this commit
    lock_changed: bool  # dvc.lock differs from the base's

    @property
    def base_tag(self) -> str | None:
        return self.base[0] if self.base else None

    @property
    def releases(self) -> bool:
        """A new release is due: nothing released on this commit, and the pipeline differs from the latest release."""
        return self.on_head is None and self.lock_changed


def release_state(tags: Mapping[str, str], head: str, artifact: str, lock: str, base_lock: str | None) -> ReleaseState:
    """`tags`: release tag -> commit; `lock`/`base_lock`: dvc.lock now and at the latest release."""
    base = versioning.latest(list(tags), artifact)
    on_head = versioning.latest([tag for tag, sha in tags.items() if sha == head], artifact)
    changed = base is None or base_lock != lock
    return ReleaseState(base=base, on_head=on_head[0] if on_head else None, lock_changed=changed)


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


def lost_batches(released: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """Batches of a release that are gone or changed now: raw data is append-only."""
    return sorted(path for path, oid in released.items() if now.get(path) != oid)


def is_engine_commit(subject: str, changed: Collection[str], engine_owned: Collection[str]) -> bool:
    """A commit the engine made: marked, and touching only the files a run rewrites."""
    return COMMIT_MARK in subject and set(changed) <= set(engine_owned)


def commit_message(
    added_rows: int, changed_params: Mapping[str, tuple], metric: str, value: float, extra: Mapping[str, float]
) -> str:
    """`retrain: +N rows; key old->new; metric value, ... [skip ci]`: what changed, in one subject line."""
    parts = [f"{added_rows:+,} rows"] if added_rows else []
    parts += [f"{key} {old}->{new}" for key, (old, new) in changed_params.items()]
    shown = {metric: value, **{key: number for key, number in extra.items() if key != metric}}
    parts.append(", ".join(f"{key} {number:.4f}" for key, number in shown.items()))
    return f"retrain: {'; '.join(parts)} {COMMIT_MARK}"
