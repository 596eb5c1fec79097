"""`retrain report`: the pull-request report against a base branch, optionally after reproducing."""

from __future__ import annotations

from pathlib import Path

from retrain import layout, report, steps, versioning
from retrain.errors import BadInputError
from retrain.progress import Progress
from retrain.remotes import RemoteUnreachableError, check_reachable
from retrain.steps import RunOptions


def pr_report(root: Path, base: str, output: Path, reproduce: bool, remote: str | None) -> Path:
    progress = Progress(5 if reproduce else 2)
    context = steps.open_context(root, RunOptions(remote=remote), progress)
    pipeline = context.pipeline
    notes: list[str] = []
    reproduced = False
    if reproduce:
        with progress.step(f"check remote `{pipeline.remote}`"):
            try:
                check_reachable(pipeline.remote, pipeline.remote_config, root)
            except (BadInputError, RemoteUnreachableError) as error:
                notes.append(
                    f"⚠️ The DVC remote `{pipeline.remote}` was not reachable, so the pipeline was not reproduced "
                    f"(expected on a pull request from a fork, which gets no secrets): {str(error).rstrip('.')}. "
                    "The numbers below are the ones committed on this branch."
                )
                progress.say(notes[-1])
        if not notes:
            with progress.step("pull what is needed, reproduce"):
                steps.ensure_raw_data(context)
                steps.reproduce(context)
            with progress.step("push data and run-cache, for the merge build to reuse"):
                steps.push_data(context)
            reproduced = True
    latest = versioning.latest(list(context.release_tags()), context.artifact)
    verdict = None
    with progress.step(f"compare with {base}"):
        if (root / layout.METRICS).exists() and (reproduced or not reproduce):
            verdict = steps.gate(context, latest[0] if latest else None)
        made = report.Report(
            title=f"Pull-request report against `{base}`",
            base_label=base,
            headline=_headline(verdict, latest, reproduced),
            gate=verdict,
            notes=notes,
            stages=report.stages_now(root, context.config.primary_metric),
            metric=context.config.primary_metric,
        )
        report.compare(root, made, base)
    with progress.step("write report"):
        return report.write(made, root, output, base)


def _headline(verdict: versioning.GateVerdict | None, latest, reproduced: bool) -> str:
    source = "reproduced on this branch" if reproduced else "as committed on this branch"
    if verdict is None:
        return f"Not reproduced: the numbers are those committed on this branch; the merge build decides ({source})."
    against = f"the latest release {latest[0]}" if latest else "no earlier release"
    outcome = "would be released" if verdict.passed else "would be gated (no tag)"
    return f"On merge this model {outcome}: compared with {against} ({source})."
