"""`retrain report`: the pull-request report against a base branch, optionally after reproducing."""

from __future__ import annotations

from pathlib import Path

from retrain import reporting, versioning
from retrain.dvcops import Pipeline
from retrain.errors import BadInputError
from retrain.params import PARAMS_FILE, read_params_file, validate_all
from retrain.progress import Progress
from retrain.release import Release, RunOptions
from retrain.remotes import RemoteUnreachableError, check_reachable
from retrain.report import Report


def pr_report(root: Path, base: str, output: Path, reproduce: bool, remote: str | None) -> Path:
    progress = Progress(5 if reproduce else 2)
    validate_all(read_params_file(root / PARAMS_FILE, PARAMS_FILE), PARAMS_FILE)
    release = Release(root, RunOptions(remote=remote), progress)
    pipeline = Pipeline(root, remote)
    release.pipeline = pipeline
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
                    "Params were validated; the numbers below are the ones committed on this branch."
                )
                progress.say(notes[-1])
        if not notes:
            with progress.step("pull what is needed, reproduce"):
                release.ensure_raw_data()
                release.reproduce()
            with progress.step("push data and run-cache, for the merge build to reuse"):
                release.push_data()
            reproduced = True
    latest = release.latest_release()
    verdict = None
    with progress.step(f"compare with {base}"):
        if (root / reporting.METRICS).exists() and (reproduced or not reproduce):
            verdict = release.gate(latest[0] if latest else None)
        headline = _headline(verdict, latest, reproduced)
        report = Report(
            title=f"Pull-request report against `{base}`",
            base_label=base,
            headline=headline,
            gate=verdict,
            notes=notes,
        )
        reporting.compare(root, report, base)
    with progress.step("write report"):
        path = reporting.write(report, root, output, base)
    return path


def _headline(verdict: versioning.GateVerdict | None, latest, reproduced: bool) -> str:
    source = "reproduced on this branch" if reproduced else "as committed on this branch"
    if verdict is None:
        return f"Not reproduced: the numbers are those committed on this branch; the merge build decides ({source})."
    against = f"the latest release {latest[0]}" if latest else "no earlier release"
    outcome = "would be released" if verdict.passed else "would be gated (no tag)"
    return f"On merge this model {outcome}: compared with {against} ({source})."
