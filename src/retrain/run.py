"""`retrain run`: turn the current commit into a verified, gated, tagged snapshot of code + data + model.

The cycle, in order (retrain.steps.Step): preflight, reproduce, push data, verify, commit dvc.lock, gate, tag,
publish to origin, report. When origin moved meanwhile, the run catches up and goes again from reproduce.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from retrain import decisions, gitops, layout, origin, report, steps
from retrain.errors import GatedError, PushRejectedError
from retrain.progress import Progress
from retrain.pushes import MAX_PUSH_ATTEMPTS, with_retries
from retrain.steps import Context, RunOptions, Step

__all__ = ["Outcome", "RunOptions", "Status", "run"]


class Status(Enum):
    RELEASED = "released"
    UP_TO_DATE = "up_to_date"
    GATED = "gated"
    DRY_RUN = "dry_run"


@dataclass(frozen=True)
class Outcome:
    status: Status
    tag: str | None  # the release made, found on this commit, or (dry run) that would be made
    commit: str | None
    message: str


class _OriginMoved(Exception):
    """origin refused the push: the local release was undone, the run goes again on top of origin."""


def run(root: Path, options: RunOptions, progress: Progress | None = None) -> Outcome:
    """The whole cycle; returns what happened, raises RetrainError (with its exit code) on failure."""
    progress = progress or Progress(len(Step))
    with ExitStack() as opened:  # DVC's repository is closed however the run ends
        with _step(progress, Step.PREFLIGHT):
            context = steps.preflight(root, options, progress)
            opened.enter_context(context.pipeline)
            if options.push:
                origin.reconcile_tags(context)
        return _run(context)


def _run(context: Context) -> Outcome:
    root, options, progress = context.root, context.options, context.progress
    if options.push and (later := steps.released_after_head(context)):
        # Another run (GitHub Actions and Travis both on, or a retry that GitHub's concurrency queued) already
        # released a commit that contains this one: building this older commit again could only go backwards.
        tag, sha = later
        progress.say(f"{tag} was released on {sha[:8]}, which already contains this commit: nothing to do here")
        headline = f"up to date: {tag}"
        _report(context, headline, tag)
        return _save(root, Outcome(Status.UP_TO_DATE, tag, gitops.head(root), headline))

    def again(_: Exception, attempt: int) -> None:  # _publish already caught up with origin
        progress.say(f"attempt {attempt + 1} of {MAX_PUSH_ATTEMPTS}, from step {Step.REPRODUCE.number}")

    return with_retries(
        lambda _: _save(root, _cycle(context)),
        again,
        ": nothing was pushed, and the local tag and release commit were removed. Re-run when origin accepts the push.",
        refused=_OriginMoved,
    )


def _cycle(context: Context) -> Outcome:
    progress, options = context.progress, context.options
    with _step(progress, Step.REPRODUCE):
        steps.ensure_raw_data(context)
        steps.check_append_only(context)
        steps.reproduce(context)
    with _step(progress, Step.PUSH_DATA, f"to `{context.pipeline.remote}`"):
        steps.push_data(context)
    with _step(progress, Step.VERIFY):
        steps.verify(context)
    state = steps.state(context)
    base_tag = state.base_tag
    if options.dry_run:
        return _dry_run(context, state)
    with _step(progress, Step.COMMIT):
        steps.commit(context, base_tag)
    if not state.releases:
        tag = state.on_head or base_tag
        if options.push and state.on_head:  # a release made here earlier and maybe never pushed
            _publish(context, state.on_head, finishing=True)
        headline = f"up to date: {tag}" if tag else "up to date: nothing to release"
        _report(context, headline, base_tag)
        return Outcome(Status.UP_TO_DATE, tag, gitops.head(context.root), headline)
    with _step(progress, Step.GATE):
        verdict = steps.gate(context, base_tag)
        progress.say(verdict.reason)
    if not verdict.passed:
        headline = f"gated: no tag. {verdict.reason}"
        _report(context, headline, base_tag, verdict)
        _save(context.root, Outcome(Status.GATED, None, gitops.head(context.root), headline))
        raise GatedError(headline + ". Fix the data or params on a branch; the latest release stays as it is.")
    with _step(progress, Step.TAG):
        tag = steps.tag(context, state)
    if options.push:
        _publish(context, tag, finishing=False)
    _report(context, f"released {tag}", base_tag, verdict, tag, released=True)
    return Outcome(Status.RELEASED, tag, gitops.head(context.root), f"released {tag}")


def _dry_run(context: Context, state: decisions.ReleaseState) -> Outcome:
    base_tag = state.base_tag
    with _step(context.progress, Step.GATE, "(dry run)"):
        verdict = steps.gate(context, base_tag) if state.releases else None
    would = steps.next_tag(context, state) if state.releases else None
    if verdict is not None and not verdict.passed:
        headline = f"dry run: would be gated, no tag. {verdict.reason}"
    elif would:
        headline = f"dry run: would commit {', '.join(steps.pending_commit(context)) or 'nothing'} and tag {would}"
    else:
        headline = f"dry run: up to date: {state.on_head or base_tag}"
    _report(context, headline, base_tag, verdict, would)
    if verdict is not None and not verdict.passed:
        raise GatedError(headline)
    return Outcome(Status.DRY_RUN, would, None, headline)


def _publish(context: Context, tag: str, finishing: bool) -> None:
    """The one push path: on rejection, undo the local release and catch up with origin, for a retry."""
    with _step(context.progress, Step.PUBLISH):
        try:
            origin.publish(context, tag, finishing)
        except PushRejectedError as rejected:
            context.progress.say(f"{rejected}: catching up with origin/{context.branch}")
            origin.catch_up(context, tag)
            raise _OriginMoved(str(rejected)) from None


def _report(
    context: Context,
    headline: str,
    base_tag: str | None,
    verdict: decisions.GateVerdict | None = None,
    tag: str | None = None,
    released: bool = False,
) -> None:
    with _step(context.progress, Step.REPORT):
        made = report.Report(
            title=f"Retrain report{f': {tag}' if tag else ''}",
            base_label=base_tag or "no earlier release",
            headline=headline,
            gate=verdict,
            candidate=tag if released else None,  # a dry run's tag is only what would be made
        )
        report.finish(made, context.root, context.project, layout.REPORT, base_tag, context.pipeline.repo)


def _step(progress: Progress, step: Step, suffix: str = "") -> AbstractContextManager[None]:
    return progress.step(f"{step.value} {suffix}".strip(), step.number)


def _save(root: Path, outcome: Outcome) -> Outcome:
    """reports/run.json: what CI reads to decide whether to comment."""
    path = root / layout.RUN_SUMMARY
    path.parent.mkdir(parents=True, exist_ok=True)
    summary = {"status": outcome.status.value, "tag": outcome.tag, "commit": outcome.commit}
    path.write_text(json.dumps(summary) + "\n")
    return outcome
