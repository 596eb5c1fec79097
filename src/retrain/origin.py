"""Releases meet git's origin: make local tags agree with it, publish a release atomically (never forced), and
catch up when origin moved so that the run can be retried on top of it."""

from __future__ import annotations

from pathlib import Path

from retrain import compaction, decisions, gitops, layout
from retrain.errors import NoOriginError, RetrainError
from retrain.steps import Context, pull_absent_batches


def reconcile_tags(context: Context) -> None:
    """Before a pushing run: origin's release tags win over local ones (see decisions.stale_local_tags)."""
    root = context.root
    if not gitops.has_remote(root):
        raise NoOriginError("--push")
    remote = gitops.remote_tags(root, layout.release_glob(context.artifact))
    for tag, why in decisions.stale_local_tags(context.release_tags(), remote, gitops.head(root)).items():
        gitops.delete_tag(root, tag)
        context.progress.say(f"local tag {tag} {why}")
    gitops.fetch(root)


def publish(context: Context, tag: str, finishing: bool) -> None:
    """Push the branch and `tag` in one transaction. `finishing`: the tag was made by an earlier, interrupted run,
    and origin may have taken it already (preflight made local tags agree with origin's, so a tag of that name on
    origin is this one). Raises PushRejectedError when origin moved."""
    root = context.root
    if finishing and tag in gitops.remote_tags(root, tag):
        context.progress.say(f"origin already has {tag}")
        return
    gitops.push_atomic(root, context.branch, tag)
    context.progress.say(f"pushed {context.branch} and {tag} to origin")


def catch_up(context: Context, tag: str | None) -> None:
    """After origin refused the push: drop this run's tag, and the engine's commits origin lacks (with any
    local-only release tag on them: that release is made again on top of origin), then rebase the user's own
    commits onto origin."""
    root = context.root
    if tag and tag in gitops.tags(root, tag):
        gitops.delete_tag(root, tag)
    gitops.fetch(root)
    upstream = f"origin/{context.branch}"
    _drop_engine_commits(context, upstream)
    if not gitops.rebase(root, upstream):
        raise RetrainError(
            f"{upstream} moved and your local commits conflict with it: run `git pull --rebase origin "
            f"{context.branch}`, resolve, then re-run."
        )
    if moved := compaction.undo_moves(root, context.raw):
        context.progress.say(f"moved {moved} batch(es) back out of the partition this run had made")
    # The rebase may have brought other clones' batches (the post-checkout hook skips rebases): from the remote,
    # since this cache never had them (a checkout alone failed with DVC's CheckoutError).
    pull_absent_batches(context)


def _drop_engine_commits(context: Context, upstream: str) -> None:
    """Remove, from the top of the branch, the engine's own commits that origin lacks: they only record dvc.lock
    and metrics, which the retry regenerates; rebased they would conflict with origin's."""
    root, glob = context.root, layout.release_glob(context.artifact)
    local_only = set(context.release_tags()) - set(gitops.remote_tags(root, glob))
    while True:
        head, parent = gitops.head(root), gitops.parent(root)
        if not parent or gitops.is_ancestor(root, head, upstream):
            return
        changed = gitops.changed_files(root, parent, head)
        owned = (*context.project.engine_owned, *(name for name in changed if context.raw.compaction_writes(name)))
        if not decisions.is_engine_commit(gitops.message(root), changed, owned):
            return
        for name, sha in context.release_tags().items():
            if sha == head and name in local_only:
                gitops.delete_tag(root, name)
                context.progress.say(f"local release {name} never reached origin: made again on top of origin")
        gitops.reset_hard(root, parent)


# --- the registry's stage tags ---------------------------------------------------------------------------------
def sync_registry(root: Path, artifact: str) -> bool:
    """Before a promotion or rollback: the local registry becomes origin's. A local stage tag origin lacks (left by
    a run that could not push) is removed, and origin's tags are fetched. False when there is no origin (the
    registry is then this clone's tags alone)."""
    if not gitops.has_remote(root):
        return False
    remote = gitops.remote_tags(root, layout.stage_glob(artifact))
    for tag in gitops.tags(root, layout.stage_glob(artifact)):
        if tag not in remote:
            gitops.delete_tag(root, tag)
    gitops.fetch(root)
    return True


def push_stage_tags(root: Path, tags: list[str]) -> None:
    """Push a promotion's tags in one transaction, never forced. Raises PushRejectedError when origin already has
    one of them (another promotion took the same GTO counter first), OriginUnreachableError when it cannot be
    reached."""
    gitops.push_tags(root, tags)
