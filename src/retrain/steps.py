"""The steps of a release, one function each, over the run's shared context; `retrain.release` calls them in order.

A failure at any step leaves git, the tags and the remote consistent; a re-run finishes the job.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from retrain import config, decisions, dvcops, gitops, layout, versioning
from retrain.config import ReleaseConfig
from retrain.dvcops import Pipeline, StoredObject
from retrain.errors import BadInputError, RetrainError
from retrain.progress import Progress
from retrain.remotes import check_reachable
from retrain.shell import run_configured


class Step(Enum):
    """The cycle's steps, numbered in this order in the progress lines and the README; a run skips some."""

    PREFLIGHT = "preflight: git, params, remote"
    REPRODUCE = "pull what is needed, reproduce"
    PUSH_DATA = "push data and run-cache"
    VERIFY = "verify every object in the remote"
    COMMIT = "commit dvc.lock"
    GATE = "quality gate"
    TAG = "tag"
    PUBLISH = "push commit and tag to origin"
    REPORT = "report"

    @property
    def number(self) -> int:
        return list(Step).index(self) + 1


@dataclass(frozen=True)
class RunOptions:
    remote: str | None = None
    push: bool = False
    force: bool = False
    dry_run: bool = False
    note: str | None = None
    major: bool = False


@dataclass
class Context:
    """What the steps share, complete when built."""

    root: Path
    options: RunOptions
    progress: Progress
    pipeline: Pipeline
    branch: str
    artifact: str
    config: ReleaseConfig

    def release_tags(self) -> dict[str, str]:
        return gitops.tags(self.root, layout.release_glob(self.artifact))


def open_context(root: Path, options: RunOptions, progress: Progress, branch: str = "") -> Context:
    pipeline = Pipeline(root, options.remote)
    name, _ = layout.artifact(root)
    return Context(root, options, progress, pipeline, branch, name, config.load(root))


# --- 1. preflight -------------------------------------------------------------------------------------------
def preflight(root: Path, options: RunOptions, progress: Progress) -> Context:
    """Refuse, before any compute, what would make the release wrong; restore what an earlier run left deleted."""
    branch = gitops.current_branch(root)
    if lock := gitops.index_lock(root):
        shown = os.path.relpath(lock, root)
        raise RetrainError(
            f"{shown} exists: a git or DVC command is running in this clone, or one was killed while writing "
            f"(a cancelled job). If none is running, delete {shown} and re-run."
        )
    if marked := gitops.conflict_markers(root, list(layout.PIPELINE_FILES)):
        raise BadInputError(
            f"{marked}: holds a merge-conflict marker; resolve the conflict (for .dvc files and dvc.lock, "
            "`git checkout --theirs` then `dvc repro` regenerates them), commit, and re-run."
        )
    _restore_deleted_outputs(root, progress)
    dirty = [name for name in gitops.dirty_tracked_files(root) if name not in layout.ENGINE_OWNED]
    if dirty:
        raise BadInputError(
            f"uncommitted changes to {', '.join(dirty[:5])}: commit or stash them first; a release "
            "snapshots committed code only."
        )
    dvcops.check_parses(root, (layout.LOCK, layout.RAW_DVC))
    context = open_context(root, options, progress, branch)
    context.pipeline.check_files()
    if command := context.config.check_command:
        _check(root, command)
    check_reachable(context.pipeline.remote, context.pipeline.remote_config, root)
    progress.say(f"branch {branch}, remote `{context.pipeline.remote}` reachable")
    if options.push:
        from retrain import origin

        origin.reconcile_tags(context)
    return context


def _check(root: Path, command: str) -> None:
    """The project's own check (release.check_command); its last line of stderr is the error a user reads."""
    result = run_configured(command, root)
    if result.returncode:
        said = (result.stderr.strip().splitlines() or [f"exited with {result.returncode}"])[-1].removeprefix("error: ")
        error = BadInputError if result.returncode == BadInputError.exit_code else RetrainError
        raise error(f"{said} (from release.check_command `{command}`)")


def _restore_deleted_outputs(root: Path, progress: Progress) -> None:
    """A failed stage deletes its outputs, the git-tracked metrics among them: put back the committed ones, so that
    the work tree matches HEAD again (the reproduce step recomputes them if they are stale)."""
    deleted = [name for name in gitops.deleted_tracked_files(root) if name in layout.ENGINE_OWNED]
    if deleted:
        gitops.checkout_paths(root, "HEAD", deleted)
        progress.say(f"restored {', '.join(deleted)} from HEAD (deleted by an earlier failed run)")


# --- 2-4. data: materialise, reproduce, push, verify --------------------------------------------------------
def ensure_raw_data(context: Context) -> None:
    """Raw data cannot be recomputed: every batch must be in the remote, in this cache, or rebuilt by the
    configured seed command (a fresh machine on an empty default remote)."""
    root, pipeline = context.root, context.pipeline
    expected = dvcops.tracked_hash((root / layout.RAW_DVC).read_text())
    missing = pipeline.missing_in_remote([(layout.RAW_DIR, expected)])
    not_local = [item for item in missing if not Path(pipeline.cache_path(item.oid)).is_file()]
    if not not_local:
        return  # the push (or the verify step's repair) uploads them from this cache
    raw = root / layout.RAW_DIR
    if raw.exists():
        if pipeline.workspace_hash(layout.RAW_DIR) != expected:
            raise BadInputError(
                f"{layout.RAW_DIR} differs from {layout.RAW_DVC}: record new batches with `dvc add "
                f"{layout.RAW_DIR}` and commit {layout.RAW_DVC}, or restore it with `dvc checkout {layout.RAW_DVC}`."
            )
        pipeline.commit(layout.RAW_DVC)  # same hash: only fills the cache, the .dvc file stays as it is
        return
    command = context.config.seed_command
    if command and any(item.label == layout.RAW_DIR for item in missing):
        _seed_raw_data(context, command, expected)
        return
    raise RetrainError(missing_message(not_local, pipeline.remote))


def _seed_raw_data(context: Context, command: str, expected: str | None) -> None:
    root, raw = context.root, context.root / layout.RAW_DIR
    result = run_configured(command, root)
    if result.returncode:
        shutil.rmtree(raw, ignore_errors=True)
        said = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise RetrainError(f"release.seed_command `{command}` exited with {result.returncode}: {said}")
    if not raw.exists() or context.pipeline.workspace_hash(layout.RAW_DIR) != expected:
        shutil.rmtree(raw, ignore_errors=True)
        raise BadInputError(
            f"{layout.RAW_DVC} names data ({expected}) that neither this machine nor remote "
            f"`{context.pipeline.remote}` has, and that `{command}` does not rebuild: run on the remote that holds "
            "it (`retrain run --remote NAME`), or push it there from a machine that has it."
        )
    context.pipeline.commit(layout.RAW_DVC)
    context.progress.say(f"rebuilt {layout.RAW_DIR} with `{command}`")


def check_append_only(context: Context) -> None:
    """Raw data is append-only: every batch of the latest release on this history must still be there, unchanged.

    This catches the classic slip of `dvc add data/raw` in a clone that never pulled the data.
    """
    root, head = context.root, gitops.head(context.root)
    on_history = [tag for tag, sha in context.release_tags().items() if gitops.is_ancestor(root, sha, head)]
    base = versioning.latest(on_history, context.artifact)
    if base is None:
        return
    old_oid = dvcops.tracked_hash(gitops.show_file(root, base[0], layout.RAW_DVC))
    new_oid = dvcops.tracked_hash((root / layout.RAW_DVC).read_text())
    if old_oid is None or old_oid == new_oid:
        return
    old = {item.label: item.oid for item in context.pipeline.expand([(layout.RAW_DIR, old_oid)])[1:]}
    new = {item.label: item.oid for item in context.pipeline.expand([(layout.RAW_DIR, new_oid)])[1:]}
    if not old or not new:
        return  # a manifest is nowhere to be had: the verify step reports missing objects
    lost = sorted(name for name, oid in old.items() if new.get(name) != oid)
    if lost:
        raise BadInputError(
            f"{layout.RAW_DVC} drops or changes {len(lost)} batch(es) of the latest release {base[0]} "
            f"({', '.join(lost[:3])}): raw data is append-only. Did you `dvc add {layout.RAW_DIR}` without "
            f"`dvc pull` first? Restore them (`git checkout {base[0]} -- {layout.RAW_DVC} && dvc pull "
            f"{layout.RAW_DVC}`), copy your new batch in again, `dvc add`, commit and re-run."
        )


def reproduce(context: Context) -> None:
    pipeline, options = context.pipeline, context.options
    if options.force and not (context.root / layout.RAW_DIR).exists():
        pipeline.pull([layout.RAW_DVC])  # a forced repro re-checks data/raw.dvc too: it needs the data here
    outcome = pipeline.reproduce(force=options.force, allow_missing=not pipeline.missing_in_remote())
    if missing := pipeline.missing_uncached_outputs():
        context.progress.say(f"{', '.join(missing)} missing from the work tree: reproducing without --allow-missing")
        outcome = pipeline.reproduce(force=options.force, allow_missing=False)
    parts = [f"ran {', '.join(outcome.ran)}"] if outcome.ran else []
    parts += [f"restored from run-cache {', '.join(outcome.restored)}"] if outcome.restored else []
    context.progress.say("; ".join(parts) or "nothing changed: no stage ran")


def push_data(context: Context) -> None:
    pushed = context.pipeline.push()
    context.progress.say(f"{pushed} file(s) uploaded to `{context.pipeline.remote}`")


def verify(context: Context) -> None:
    pipeline = context.pipeline
    missing = pipeline.missing_in_remote()
    if missing:
        if repaired := pipeline.upload_from_cache(missing):
            context.progress.say(f"re-uploaded {len(repaired)} object(s) the remote had lost")
        missing = pipeline.missing_in_remote()
    if missing:
        raise RetrainError(missing_message(missing, pipeline.remote))
    context.progress.say(f"every object named by {layout.LOCK} and {layout.RAW_DVC} is in `{pipeline.remote}`")


def missing_message(missing: list[StoredObject], remote: str) -> str:
    shown = ", ".join(f"{item.label} ({item.oid})" for item in missing[:3])
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    return (
        f"{len(missing)} object(s) missing from remote `{remote}` and from this machine's cache: {shown}{more}. "
        f"Nothing was committed or tagged. Push them from a machine that has them (`dvc push -r {remote}`), "
        "then re-run."
    )


# --- 5-7. state, commit, gate, tag --------------------------------------------------------------------------
def state(context: Context) -> decisions.ReleaseState:
    root = context.root
    tags = context.release_tags()
    base = versioning.latest(list(tags), context.artifact)
    base_lock = gitops.show_file(root, base[0], layout.LOCK) if base else None
    lock = (root / layout.LOCK).read_text()
    return decisions.release_state(tags, gitops.head(root), context.artifact, lock, base_lock)


def read_output(root: Path, name: str) -> dict:
    """A metrics file the pipeline wrote; never assumed present."""
    try:
        return json.loads((root / name).read_text())
    except FileNotFoundError:
        raise RetrainError(
            f"{name} is missing after reproducing: a stage output was deleted and not recomputed; run "
            f"`dvc repro` to see why, then re-run."
        ) from None


def pending_commit(context: Context) -> list[str]:
    """The files the run rewrote that differ from HEAD (or are new)."""
    root = context.root
    dirty = [name for name in gitops.dirty_tracked_files(root) if name in layout.ENGINE_OWNED]
    new = [n for n in layout.ENGINE_OWNED if (root / n).exists() and not gitops.show_file(root, "HEAD", n)]
    return sorted(set(dirty) | set(new))


def commit(context: Context, base_tag: str | None) -> str | None:
    """Commit dvc.lock and the metrics when the run changed them; the new commit, or None."""
    paths = pending_commit(context)
    if not paths:
        context.progress.say("dvc.lock already matches: nothing to commit")
        return None
    made = gitops.commit(context.root, paths, _commit_message(context, base_tag))
    context.progress.say(f"committed {', '.join(paths)} as {made[:8]}")
    return made


def _commit_message(context: Context, base_tag: str | None) -> str:
    root, metric = context.root, context.config.primary_metric
    stats = read_output(root, layout.DATA_STATS)
    old_stats = gitops.json_at(root, base_tag, layout.DATA_STATS) if base_tag else {}
    params = config.read(root)
    changed = versioning.changed_params(gitops.yaml_at(root, base_tag, layout.PARAMS_FILE), params) if base_tag else {}
    metrics = read_output(root, layout.METRICS)
    scalars = {key: value for key, value in metrics.items() if isinstance(value, float)}
    added = stats.get("rows", 0) - old_stats.get("rows", 0)
    return decisions.commit_message(added, changed, metric, metrics.get(metric, float("nan")), scalars)


def gate(context: Context, base_tag: str | None) -> versioning.GateVerdict:
    metric = context.config.primary_metric
    metrics = read_output(context.root, layout.METRICS)
    if metric not in metrics:
        known = ", ".join(key for key, value in metrics.items() if isinstance(value, int | float))
        raise BadInputError(
            f"params.yaml: release.primary_metric `{metric}` is not in {layout.METRICS} (it has: {known}); fix it."
        )
    old = gitops.json_at(context.root, base_tag, layout.METRICS).get(metric) if base_tag else None
    return versioning.gate(metric, metrics[metric], old, context.config.max_regression)


def next_tag(context: Context, base: tuple[str, versioning.Version] | None) -> str:
    root = context.root
    new_data = dvcops.tracked_hash((root / layout.RAW_DVC).read_text())
    data_changed = base is None or dvcops.tracked_hash(gitops.show_file(root, base[0], layout.RAW_DVC)) != new_data
    version = versioning.next_version(base[1] if base else None, data_changed, context.options.major)
    return versioning.tag_name(context.artifact, version)


def tag(context: Context, base: tuple[str, versioning.Version] | None) -> str:
    """Tag HEAD with the next version, the lineage in the annotated tag's message."""
    root = context.root
    name = next_tag(context, base)
    gitops.create_tag(root, name, versioning.tag_message(name, lineage(context)))
    context.progress.say(f"tagged {gitops.head(root)[:8]} as {name}")
    return name


def lineage(context: Context) -> versioning.Lineage:
    root = context.root
    stats = read_output(root, layout.DATA_STATS)
    return versioning.Lineage(
        commit=gitops.head(root),
        data_hash=dvcops.tracked_hash((root / layout.RAW_DVC).read_text()) or "?",
        rows=stats.get("rows", 0),
        batches=stats.get("batches", 0),
        params=versioning.flatten(config.read(root)),
        metrics=read_output(root, layout.METRICS),
        note=context.options.note,
        run_url=run_url(),
    )


def run_url() -> str | None:
    if url := os.environ.get("RETRAIN_RUN_URL"):
        return url
    if all(os.environ.get(key) for key in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")):
        server, repository = os.environ["GITHUB_SERVER_URL"], os.environ["GITHUB_REPOSITORY"]
        return f"{server}/{repository}/actions/runs/{os.environ['GITHUB_RUN_ID']}"
    return os.environ.get("TRAVIS_BUILD_WEB_URL")
