"""Where ingested batches are committed, and how they reach origin (never forced).

Pull-request mode: one branch per landing, `ingest/<source>`, committed without touching the work tree (a
temporary index). While it holds batches its base branch lacks (its pull request is open), a run adds to it;
once they are all on the base (merged, whatever the merge method), the next run starts it again from the base,
as a fast-forward of the old branch. Release mode: the batches are committed on the current branch, in the work
tree, as a person adding a batch would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from retrain import gitops, project
from retrain.errors import BadInputError, RetrainError
from retrain.progress import Progress
from retrain.pushes import with_retries


@dataclass
class Target:
    """The branch the batches go to, what it is built on, and which revisions' records count."""

    branch: str
    base: str  # the branch a pull request targets (release mode: the branch itself)
    base_rev: str  # the base's commit the run builds on or compares with (origin's with --push)
    tip: str | None  # the ingest branch's commit the run adds to (pull-request mode), if any
    local_tip: str | None  # the local branch's commit before the run (update-ref checks it is still there)
    remote_tip: str | None  # origin's, when --push
    open: bool  # the ingest branch holds batches the base lacks (its pull request is open)
    release: bool

    @property
    def record_revs(self) -> list[str]:
        """Whose records count: the base, the ingest branch, and origin's copy of the branch (release mode: origin
        may hold ingests this clone lacks, which the push will rebase onto)."""
        return [self.base_rev, *(rev for rev in (self.tip, self.remote_tip) if rev)]


def choose(root: Path, branch_name: str, push: bool, release: bool, progress: Progress) -> Target:
    base = gitops.current_branch(root)
    if release:
        base_rev = gitops.head(root)
        remote = gitops.resolve(root, f"origin/{base}") if push else None
        if remote and not gitops.is_ancestor(root, remote, base_rev):
            progress.say(f"origin/{base} has commits this clone lacks: their records count, the push rebases")
        return Target(base, base, base_rev, None, base_rev, remote, False, True)
    if branch_name == base:
        raise BadInputError(f"already on {base}: run `retrain ingest` from the branch pull requests go to.")
    base_rev = (gitops.resolve(root, f"origin/{base}") if push else None) or gitops.head(root)
    local_tip = gitops.resolve(root, f"refs/heads/{branch_name}")
    remote_tip = gitops.fetch_branch(root, branch_name) if push else None
    if push and local_tip and not remote_tip:
        progress.say(f"{branch_name}: local commits not on origin yet (an earlier run stopped before its push)")
    tip = _newest(root, local_tip, remote_tip, branch_name, progress)
    is_open = bool(tip and pending(root, tip, base_rev))
    return Target(branch_name, base, base_rev, tip, local_tip, remote_tip, is_open, False)


def _newest(root: Path, local: str | None, remote: str | None, branch: str, progress: Progress) -> str | None:
    """The ingest branch to build on: the local one when it is ahead of origin's (a run stopped before its push),
    else origin's (a local branch that diverged from it is replaced: origin's record wins)."""
    if not (local and remote) or local == remote:
        return local or remote
    if gitops.is_ancestor(root, remote, local):
        progress.say(f"{branch}: local commits not on origin yet (an earlier run stopped before its push)")
        return local
    if not gitops.is_ancestor(root, local, remote):
        progress.say(f"{branch}: the local branch diverged from origin's: origin's is used, the local one replaced")
    return remote


def pending(root: Path, tip: str, base_rev: str) -> list[str]:
    """Batches on the ingest branch that the base lacks (same path and content): what its pull request proposes."""
    raw = project.load(root).raw  # by name: a batch the base compacted into a partition is not proposed again
    on_tip, on_base = raw.at(root, tip), raw.at(root, base_rev)
    return sorted(name for name, md5 in on_tip.items() if on_base.get(name) != md5)


def commit(root: Path, target: Target, files: dict[str, str], message: str) -> str:
    """Pull-request mode: commit `files` (path -> text) on the ingest branch and move it; the new commit."""
    if target.open and target.tip:
        parents, tree = [target.tip], target.tip
    elif target.tip and not gitops.is_ancestor(root, target.tip, target.base_rev):
        # Merged by squash or rebase: start again from the base, as a descendant of the old branch (no force-push).
        parents, tree = [target.tip, target.base_rev], target.base_rev
    else:
        parents, tree = [target.base_rev], target.base_rev
    made = gitops.commit_files(root, tree, parents, files, message)
    gitops.update_branch(root, target.branch, made, target.local_tip)
    target.local_tip, target.tip, target.open = made, made, True
    return made


def needs_push(root: Path, target: Target) -> bool:
    if target.release:
        remote = gitops.resolve(root, f"origin/{target.branch}")
        return remote is None or not gitops.is_ancestor(root, gitops.head(root), remote)
    return target.tip is not None and target.open and target.tip != target.remote_tip


def push(root: Path, target: Target, files: dict[str, str], message: str, progress: Progress) -> None:
    """Publish the branch; when origin's moved meanwhile, build on it again and retry (bounded, never forced)."""

    def attempt(_: int) -> None:
        if target.release:
            gitops.push_atomic(root, target.branch, None)
        else:
            gitops.push_branch(root, target.tip or target.base_rev, target.branch)
            target.remote_tip = target.tip

    def again(rejected: Exception, _: int) -> None:
        progress.say(f"{rejected}: building on origin/{target.branch} again")
        _catch_up(root, target, files, message)

    with_retries(
        attempt,
        again,
        f". The batches are committed locally on {target.branch} and their data is in the DVC remote: re-run to "
        "push them.",
    )


def _catch_up(root: Path, target: Target, files: dict[str, str], message: str) -> None:
    if target.release:
        gitops.fetch(root)
        if not gitops.rebase(root, f"origin/{target.branch}"):
            raise RetrainError(
                f"origin/{target.branch} moved and conflicts with the ingest commit: run `git pull --rebase origin "
                f"{target.branch}`, resolve, then re-run."
            )
        return
    remote = gitops.fetch_branch(root, target.branch)
    if remote is None:
        return  # deleted meanwhile: the push makes it again
    if not files:
        raise RetrainError(
            f"origin's {target.branch} moved while this run pushed commits of an earlier run: re-run, it builds on "
            "origin's branch (deliveries its record lacks are ingested again)."
        )
    made = gitops.commit_files(root, remote, [remote], files, message)
    gitops.update_branch(root, target.branch, made, target.local_tip)
    target.local_tip, target.tip, target.remote_tip = made, made, remote
