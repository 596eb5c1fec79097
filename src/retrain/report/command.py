"""`retrain report`: the pull-request report against a base branch, optionally after reproducing.

With `--reproduce` the report first decides whether there is anything to reproduce: a pull request that changes no
pipeline input (docs, CI files, the engine) is reported at once and green, with no remote and no DVC run (this
replaces the workflows' path filters, which would leave a required check Pending). A batch that the remote lacks is
named in the report with the command that uploads it, and the command still fails (exit 1) once the report is written.
"""

from __future__ import annotations

from pathlib import Path

from retrain import decisions, dvcfiles, gitops, layout, report, steps, versioning
from retrain.errors import BadInputError, MissingDataError, RemoteUnreachableError, RetrainError
from retrain.progress import Progress
from retrain.remotes import check_reachable
from retrain.steps import RunOptions


def pr_report(
    root: Path, base: str, output: Path, reproduce: bool, remote: str | None, push_to: str | None = None
) -> Path:
    """With `push_to`, what the reproduction computed goes there (the pull requests' own remote), never to `remote`,
    which the release reads."""
    inputs = changed_inputs(root, base)
    progress = Progress(5 if reproduce and inputs else 2)
    context = steps.open_context(root, RunOptions(remote=remote, push_to=push_to), progress)
    with context.pipeline:  # DVC's repository is closed however the report ends
        pipeline = context.pipeline
        if push_to:
            pipeline.require_remote(push_to)
        notes: list[str] = []
        reproduced = False
        missing: MissingDataError | None = None
        if reproduce and not inputs:
            progress.say(f"no pipeline input changed since {base}: nothing to reproduce, the remote is not needed")
            reproduce = False
        elif reproduce:
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
                    try:
                        steps.ensure_raw_data(context)
                    except MissingDataError as error:
                        missing = error
                        notes.append(missing_note(error))
                    else:
                        steps.reproduce(context)
                if missing is None:
                    where = f"to `{push_to}`, apart from the release remote" if push_to else "for the merge build"
                    with progress.step(f"push run-cache and outputs, {where}"):
                        steps.push_data(context)
                    reproduced = True
        on_history = context.releases_on_history()  # a tag off the pull request's history is no baseline
        latest = versioning.latest(list(on_history), context.artifact)
        head = gitops.head(root)
        on_head = versioning.latest([tag for tag, sha in on_history.items() if sha == head], context.artifact)
        verdict = None
        with progress.step(f"compare with {base}"):
            if (root / context.project.metrics).exists() and (reproduced or not reproduce) and missing is None:
                verdict = steps.gate(context, latest.tag if latest else None)
            made = report.Report(
                title=f"Pull-request report against `{base}`",
                base_label=base,
                headline=_headline(verdict, latest, reproduced, on_head, inputs, base, missing),
                gate=None if on_head else verdict,
                notes=notes,
            )
        with progress.step("write report"):
            written = report.finish(made, root, context.project, output, base, pipeline.repo)
        if missing is not None:
            raise RetrainError(f"{missing} (the report, {output}, says so too)")
        return written


def changed_inputs(root: Path, base: str) -> list[str]:
    """Files this branch changed since it left `base` (committed or not) that a reproduction depends on."""
    if gitops.resolve(root, base) is None:
        raise BadInputError(f"--base {base}: no such revision here; fetch it first (`git fetch origin`).")
    fork_point = gitops.merge_base(root, base, "HEAD") or base
    inputs = dvcfiles.stage_inputs(gitops.show_file(root, "HEAD", layout.DVC_YAML))
    return decisions.changed_inputs(gitops.changed_since(root, fork_point), inputs, (layout.DVC_YAML, layout.LOCK))


def missing_note(error: MissingDataError) -> str:
    batches = ", ".join(f"`{batch}`" for batch in error.batches)
    return (
        f"❌ {batches}: not in the DVC remote `{error.remote}` that CI reads (a plain `dvc push` sends a batch to "
        f"the default remote, `local`, on your machine). Fix: `{steps.push_command(error.remote, error.batches)}` "
        "from the clone that added it, then re-run this check."
    )


def _headline(
    verdict: decisions.GateVerdict | None,
    latest: versioning.TaggedVersion | None,
    reproduced: bool,
    on_head: versioning.TaggedVersion | None,
    inputs: list[str],
    base: str,
    missing: MissingDataError | None,
) -> str:
    if missing is not None:
        return "Not reproduced: raw data of this branch is missing from the remote (see below); the merge would fail."
    if on_head is not None:
        return f"This head is the release {on_head.tag}: merging it into `{base}` brings exactly that model."
    if not inputs:
        return (
            f"Nothing to reproduce: this branch changes no pipeline input since `{base}` (stage deps, params, "
            "dvc.yaml, dvc.lock, .dvc files), so its merge retrains nothing."
        )
    source = "reproduced on this branch" if reproduced else "as committed on this branch"
    if verdict is None:
        return f"Not reproduced: the numbers are those committed on this branch; the merge build decides ({source})."
    against = f"the latest release {latest.tag}" if latest else "no earlier release"
    outcome = "would be released" if verdict.passed else "would be gated (no tag)"
    return f"On merge this model {outcome}: compared with {against} ({source})."
