"""The steps of a release, one function each, over the run's shared context; `retrain.run` calls them in order.

A failure at any step leaves git, the tags and the remote consistent; a re-run finishes the job.

Past 400 lines on purpose: the nine steps read in the order they run, each beside the helpers only it uses.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from retrain import (
    compaction,
    config,
    decisions,
    dvcfiles,
    dvcmetrics,
    environment,
    gitops,
    layout,
    metrics,
    project,
    runcache,
    versioning,
)
from retrain.config import ReleaseConfig
from retrain.dvcops import Pipeline, StoredObject
from retrain.errors import BadInputError, IgnoredFileError, MissingDataError, RetrainError
from retrain.progress import Progress
from retrain.rawdata import DVC_SUFFIX, Raw
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


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    remote: str | None = None
    push: bool = False
    force: bool = False
    dry_run: bool = False
    note: str | None = None
    major: bool = False
    # Opt-in: also restore stages from this remote's run-cache (the pull requests' location); see docs/ci.md.
    trust_runs_from: str | None = None
    # Where this run uploads what it computed, when not to the remote it reads (a pull request's own location).
    push_to: str | None = None


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
    project: project.Project
    _raw_at: dict[str, dict[str, str]] = field(default_factory=dict, init=False, repr=False)
    compacted: list[str] = field(default_factory=list, init=False)  # what compaction changed, for the commit

    @property
    def raw(self) -> Raw:
        return self.project.raw

    def raw_at(self, tag: str) -> dict[str, str]:
        """raw path -> md5 at a release tag, read once per run (append-only check, push, version bump)."""
        if tag not in self._raw_at:
            self._raw_at[tag] = self.raw.at(self.root, tag)
        return self._raw_at[tag]

    def base_raw(self) -> tuple[str, dict[str, str]] | None:
        """(tag, raw path -> md5) of the latest release on this history, or None before the first."""
        base = versioning.latest(list(self.releases_on_history()), self.artifact)
        return (base.tag, self.raw_at(base.tag)) if base else None

    def release_tags(self) -> dict[str, str]:
        return gitops.tags(self.root, layout.release_glob(self.artifact))

    def releases_on_history(self, rev: str = "HEAD") -> dict[str, str]:
        """The release tags on `rev`'s history: the only releases a gate, a version bump or an append-only check
        may build on (a tag pushed onto a commit off that history is anyone's claim, not a release)."""
        return gitops.tags(self.root, layout.release_glob(self.artifact), merged_into=rev)


def open_context(
    root: Path, options: RunOptions, progress: Progress, branch: str = "", found: project.Project | None = None
) -> Context:
    found = found or project.load(root)
    pipeline = Pipeline(root, options.remote, hold=True)
    return Context(root, options, progress, pipeline, branch, found.artifact, found.config, found)


# --- 1. preflight -------------------------------------------------------------------------------------------
def preflight(root: Path, options: RunOptions, progress: Progress) -> Context:
    """Refuse, before any compute, what would make the release wrong; restore what an earlier run left deleted.
    (A pushing run then makes its tags agree with origin's: `origin.reconcile_tags`, called by the release.)"""
    branch = gitops.current_branch(root)
    if lock := gitops.index_lock(root):
        shown = os.path.relpath(lock, root)
        raise RetrainError(
            f"{shown} exists: a git or DVC command is running in this clone, or one was killed while writing "
            f"(a cancelled job). If none is running, delete {shown} and re-run."
        )
    found = _load_unconflicted(root)
    raw = found.raw
    _restore_deleted_outputs(root, progress, found.engine_owned)
    dirty = [name for name in gitops.dirty_tracked_files(root) if name not in found.engine_owned]
    ignore_files = {name for name, _ in found.output_ignores}
    if ignore_files.intersection(dirty):  # maybe an earlier run's rules for its outputs, not committed
        dirty = [name for name in dirty if name not in output_ignore_changes(root, found)]
    if dirty:
        raise BadInputError(
            f"uncommitted changes to {', '.join(dirty[:5])}: commit or stash them first; a release "
            "snapshots committed code only."
        )
    compaction.check_partitions(root, raw, found.artifact)
    if untracked := raw.untracked(root):
        name = untracked[0]
        fix = f"git add {name} && git commit" if name.endswith(".dvc") else f"dvc add {name}, commit its .dvc file"
        raise BadInputError(
            f"{name}: raw data ({raw.path}) not committed with its .dvc file, so a release would train on data it "
            f"does not store: {fix}{'' if raw.single else f', or move it out of {raw.path}'}."
        )
    dvcfiles.check_parses(root, [layout.LOCK, *raw.dvc_files(root)])
    context = open_context(root, options, progress, branch, found)
    try:
        context.pipeline.check_files()
        if command := context.config.check_command:
            _check(root, command)
        check_reachable(context.pipeline.remote, context.pipeline.remote_config, root)
    except BaseException:
        context.pipeline.close()  # its lock too: an ingest goes on in this process after a refused release
        raise
    progress.say(f"branch {branch}, remote `{context.pipeline.remote}` reachable")
    return context


def _load_unconflicted(root: Path) -> project.Project:
    """The project, once its files hold no merge-conflict marker (the pipeline's own files first: they are read)."""
    marked = gitops.conflict_markers(root, list(layout.PIPELINE_FILES))
    found = None if marked else project.load(root)
    if found is not None:
        marked = gitops.conflict_markers(root, found.raw.dvc_files(root))
    if marked or found is None:
        raise BadInputError(
            f"{marked}: holds a merge-conflict marker; resolve the conflict (for .dvc files and dvc.lock, "
            "`git checkout --theirs` then `dvc repro` regenerates them), commit, and re-run."
        )
    return found


def _check(root: Path, command: str) -> None:
    """The project's own check (release.check_command); its last line of stderr is the error a user reads."""
    result = run_configured(command, root)
    if result.returncode:
        said = (result.stderr.strip().splitlines() or [f"exited with {result.returncode}"])[-1].removeprefix("error: ")
        error = BadInputError if result.returncode == BadInputError.exit_code else RetrainError
        raise error(f"{said} (from release.check_command `{command}`)")


def _restore_deleted_outputs(root: Path, progress: Progress, engine_owned: tuple[str, ...]) -> None:
    """A failed stage deletes its outputs, the git-tracked metrics among them: put back the committed ones, so that
    the work tree matches HEAD again (the reproduce step recomputes them if they are stale)."""
    deleted = [name for name in gitops.deleted_tracked_files(root) if name in engine_owned]
    if deleted:
        gitops.checkout_paths(root, "HEAD", deleted)
        progress.say(f"restored {', '.join(deleted)} from HEAD (deleted by an earlier failed run)")


# --- 2-4. data: materialise, reproduce, push, verify --------------------------------------------------------
def ensure_raw_data(context: Context) -> None:
    """Raw data cannot be recomputed: every batch must be in the remote, in this cache, in the work tree, or
    rebuilt by the configured seed command (a fresh machine on an empty default remote)."""
    pipeline = context.pipeline
    missing = pipeline.missing_in_remote(sorted((raw.path, raw.md5) for raw in context.raw.files(context.root)))
    absent = [item for item in missing if not Path(pipeline.cache_path(item.oid)).is_file()]
    absent = [item for item in absent if not _cache_from_work_tree(context, item)]
    if absent and (command := context.config.seed_command):
        _run_seed_command(context, command)
        absent = [item for item in absent if not _cache_from_work_tree(context, item, drop_mismatch=True)]
    if absent:
        batches = sorted({item.label for item in absent})
        raise MissingDataError(missing_message(absent, pipeline.remote, context.raw), batches, pipeline.remote)
    # what remains missing from the remote is in this cache now: the push (or the verify step) uploads it


def _cache_from_work_tree(context: Context, item: StoredObject, drop_mismatch: bool = False) -> bool:
    """A batch the remote and the cache lack but the work tree holds: into the cache, if it is what git names."""
    path = context.root / item.label
    if not path.is_file() or not (context.root / f"{item.label}{DVC_SUFFIX}").is_file():
        return False  # not here, or in a partition (made by a release from data the remote held)
    if context.pipeline.workspace_hash(item.label) != item.oid:
        if drop_mismatch:  # the seed command made something else: leave no stray file behind
            path.unlink()
            return False
        raise BadInputError(
            f"{item.label} differs from {item.label}.dvc: raw batches are immutable. Deliver the new content as a "
            f"new batch file, or restore this one with `dvc checkout {item.label}.dvc`."
        )
    context.pipeline.commit(f"{item.label}.dvc")  # same hash: only fills the cache, the .dvc file stays as it is
    return True


def _run_seed_command(context: Context, command: str) -> None:
    result = run_configured(command, context.root)
    if result.returncode:
        said = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise RetrainError(f"release.seed_command `{command}` exited with {result.returncode}: {said}")
    context.progress.say(f"rebuilt missing raw data with `{command}`")


def check_append_only(context: Context) -> None:
    """Raw data is append-only (release.append_only): every raw file of the latest release on this history must
    still be there, unchanged."""
    if not context.config.append_only:
        return
    if (base := context.base_raw()) is None:
        return
    tag, released = base
    if not released:
        # the release kept its raw data under another layout (another path, or a folder then and a file now): there
        # is nothing of this layout to hold to, and saying nothing would look like a check that passed
        context.progress.say(
            f"{tag} has no raw data at {context.raw.path} (its layout was different): append-only "
            f"(release.append_only) holds from this release on"
        )
        return
    lost = decisions.lost_batches(released, context.raw.in_tree(context.root))
    if lost:
        files = " ".join(f"{path}.dvc" for path in lost)
        raise BadInputError(
            f"{len(lost)} raw file(s) of the latest release {tag} are gone or changed ({', '.join(lost[:3])}): "
            f"raw data is append-only (release.append_only). Restore them (`git checkout {tag} -- {files} && "
            "dvc pull`), deliver changes as new batch files, commit and re-run."
        )


def reproduce(context: Context) -> None:
    pipeline, options = context.pipeline, context.options
    pull_absent_batches(context)
    compact(context)
    adopted = []
    if options.trust_runs_from and not options.force:
        adopted = runcache.adopt_runs(pipeline, options.trust_runs_from)
        context.progress.say(
            f"trusting `{options.trust_runs_from}` (opt-in): {len(adopted)} run-cache entr(y/ies) from pull requests"
        )
    outcome = pipeline.reproduce(force=options.force, allow_missing=not pipeline.missing_in_remote())
    if missing := pipeline.missing_uncached_outputs():
        context.progress.say(f"{', '.join(missing)} missing from the work tree: reproducing without --allow-missing")
        outcome = pipeline.reproduce(force=options.force, allow_missing=False)
    if adopted:
        runcache.forget_unused(pipeline, adopted)  # only the entries this release restored reach the release remote
    found = context.project
    if absent := [name for name in (found.metrics, found.data_stats) if name and not (context.root / name).exists()]:
        # a cached metrics file (in an output folder such as dvclive's eval/) that `--allow-missing` left in the
        # remote: only it is pulled, not its whole folder
        pipeline.pull(absent)
    parts = [f"ran {', '.join(outcome.ran)}"] if outcome.ran else []
    parts += [f"restored from run-cache {', '.join(outcome.restored)}"] if outcome.restored else []
    context.progress.say("; ".join(parts) or "nothing changed: no stage ran")


def pull_absent_batches(context: Context) -> None:
    """A batch its .dvc file tracks but the work tree lacks makes DVC see data/raw as modified: `dvc repro --pull
    --allow-missing` then runs preprocessing on the batches that happen to be here, without pulling the others (it
    pulls stage outputs, not what a .dvc file tracks). A fresh CI checkout would train on the new batches alone:
    pull the absent ones first (with them back, an unchanged data/raw is again unchanged and nothing reruns)."""
    root = context.root
    absent = [raw for raw in context.raw.files(root) if not (root / raw.path).exists()]
    if absent:
        context.pipeline.pull(sorted({raw.dvc_file for raw in absent}))
        context.progress.say(f"pulled {len(absent)} batch(es) this machine lacked")


def compact(context: Context) -> None:
    """release.partition_by: a release that brings new data first moves the batches its base holds into their
    month's partition (retrain.compaction); never in a dry run or a pull request's run."""
    options = context.options
    if context.config.partition_by == "none" or options.dry_run or options.push_to or context.raw.single:
        return
    if (base := context.base_raw()) is None:
        return
    if done := compaction.compact(context.root, context.raw, context.pipeline, *base):
        context.compacted = done.paths
        context.progress.say(f"compacted {done.moved} released batch(es) into {done.partition}/")


def push_data(context: Context) -> None:
    if target := context.options.push_to:
        pushed = runcache.push_apart(context.pipeline, target)
        context.progress.say(f"{pushed} file(s) uploaded to `{target}` (nothing to `{context.pipeline.remote}`)")
        return
    pushed = context.pipeline.push(released_dvc_files(context)) + runcache.push_new(context.pipeline)
    context.progress.say(f"{pushed} file(s) uploaded to `{context.pipeline.remote}`")


def released_dvc_files(context: Context) -> set[str]:
    """The raw data's .dvc files whose data the latest release on this history already pushed, unchanged: the push
    leaves them to the verify step (one existence check for every object), so a release uploads what its new data
    costs however many batches came before."""
    if (base := context.base_raw()) is None:
        return set()
    released, files = base[1], context.raw.files(context.root)
    new = {raw.dvc_file for raw in files if released.get(raw.name) != raw.md5}  # a partition counts as a whole
    return {raw.dvc_file for raw in files} - new


def verify(context: Context) -> None:
    pipeline = context.pipeline
    missing = pipeline.missing_in_remote()
    if missing:
        if repaired := pipeline.upload_from_cache(missing):
            context.progress.say(f"re-uploaded {len(repaired)} object(s) the remote had lost")
        missing = pipeline.missing_in_remote()
    if missing:
        raise RetrainError(missing_message(missing, pipeline.remote, context.raw))
    context.progress.say(f"every object named by {layout.LOCK} and the raw data's .dvc files is in `{pipeline.remote}`")


def missing_message(missing: list[StoredObject], remote: str, raw: Raw) -> str:
    """What is missing and the fix: raw files (`raw`) can only be pushed from the machine that added them."""
    shown = ", ".join(f"{item.label} ({item.oid})" for item in missing[:3])
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    batches = sorted({item.label for item in missing if raw.is_batch(item.label)})
    if batches and len(batches) == len({item.label for item in missing}):
        # a plain `dvc push` goes to the default remote (`local`): name the one this run reads, and the batches
        fix = (
            f"Push them to `{remote}` from the machine that added them: `{push_command(remote, batches)}`, then re-run."
        )
    else:
        fix = f"Push them from a machine that has them (`dvc push -r {remote}`), then re-run."
    return (
        f"{len(missing)} object(s) missing from remote `{remote}` and from this machine's cache: {shown}{more}. "
        f"Nothing was committed or tagged. {fix}"
    )


def push_command(remote: str, batches: list[str]) -> str:
    """The exact command that uploads raw batches to `remote`: their .dvc files as targets."""
    return f"dvc push -r {remote} " + " ".join(f"{batch}{DVC_SUFFIX}" for batch in batches)


# --- 5-7. state, commit, gate, tag --------------------------------------------------------------------------
def state(context: Context) -> decisions.ReleaseState:
    """Where HEAD stands against the releases on its own history; every other release tag is named and ignored."""
    root = context.root
    on_history = context.releases_on_history()
    every = context.release_tags()
    base = versioning.latest(list(on_history), context.artifact)
    base_lock = gitops.show_file(root, base.tag, layout.LOCK) if base else None
    lock = (root / layout.LOCK).read_text()
    found = decisions.release_state(on_history, gitops.head(root), context.artifact, lock, base_lock, every)
    if found.ignored:
        shown = ", ".join(f"{tag} (on {every[tag][:8]})" for tag in found.ignored[:5])
        more = f" and {len(found.ignored) - 5} more" if len(found.ignored) > 5 else ""
        context.progress.say(
            f"ignored {len(found.ignored)} release tag(s) not on this commit's history: {shown}{more}; the gate "
            f"compares with {found.base_tag or 'no earlier release'}"
        )
    return found


def released_after_head(context: Context) -> tuple[str, str] | None:
    """The latest release made on a later commit that contains HEAD (tag, commit), if any: HEAD's changes are
    released already. (After preflight with --push, local release tags are origin's.)"""
    root, head = context.root, gitops.head(context.root)
    glob = layout.release_glob(context.artifact)
    later = {tag: sha for tag, sha in gitops.tags(root, glob, containing=head).items() if sha != head}
    found = versioning.latest(list(later), context.artifact)
    return (found.tag, later[found.tag]) if found else None


def read_output(root: Path, name: str) -> dict[str, Any]:
    """A metrics file the pipeline wrote; never assumed present."""
    try:
        found: dict[str, Any] = json.loads((root / name).read_text())
    except FileNotFoundError:
        raise RetrainError(
            f"{name} is missing after reproducing: a stage output was deleted and not recomputed; run "
            f"`dvc repro` to see why, then re-run."
        ) from None
    return found


def read_metrics(root: Path, name: str) -> dict[str, float]:
    """The metrics file's numbers, named as `dvc metrics show` names them (retrain.metrics)."""
    return metrics.flatten(read_output(root, name))


def pending_commit(context: Context) -> list[str]:
    """The files the run rewrote that differ from HEAD (or are new); with them, the .gitignore rules DVC wrote for
    the outputs it cached, without which a clone of the release would list its outputs as untracked files."""
    root = context.root
    owned = context.project.engine_owned
    dirty = [name for name in gitops.dirty_tracked_files(root) if name in owned]
    new = [n for n in owned if (root / n).exists() and not gitops.show_file(root, "HEAD", n)]
    rewritten = set(dirty) | set(new)
    return sorted(rewritten | set(output_ignore_changes(root, context.project))) if rewritten else []


def output_ignore_changes(root: Path, found: project.Project) -> list[str]:
    """The .gitignore files beside the cached outputs that differ from HEAD only by the rules DVC writes for
    those outputs (a user's own edit is not the engine's to commit)."""
    rules: dict[str, set[str]] = {}
    for name, rule in found.output_ignores:
        rules.setdefault(name, set()).add(rule)
    return [
        name
        for name in gitops.changed_or_new(root, sorted(rules))
        if name in rules
        and (root / name).is_file()
        and project.only_rules_added(gitops.show_file(root, "HEAD", name) or "", (root / name).read_text(), rules[name])
    ]


def commit(context: Context, base_tag: str | None) -> str | None:
    """Commit dvc.lock and the metrics when the run changed them; the new commit, or None."""
    paths = sorted(set(pending_commit(context)) | set(context.compacted))
    if not paths:
        context.progress.say("dvc.lock already matches: nothing to commit")
        return None
    if ignored := gitops.ignore_rule(context.root, paths):
        raise IgnoredFileError(*ignored)
    made = gitops.commit(context.root, paths, _commit_message(context, base_tag))
    context.progress.say(f"committed {', '.join(paths)} as {made[:8]}")
    return made


def _commit_message(context: Context, base_tag: str | None) -> str:
    root, metric, stats_file = context.root, context.config.primary_metric, context.project.data_stats
    stats = read_output(root, stats_file) if stats_file else {}
    old_stats = {}
    if base_tag and stats_file:
        found = dvcmetrics.read(root, [(base_tag, stats_file)], context.pipeline.repo)
        old_stats = dvcmetrics.mapping(found[(base_tag, stats_file)])
    params = config.read(root)
    changed = versioning.changed_params(gitops.yaml_at(root, base_tag, layout.PARAMS_FILE), params) if base_tag else {}
    numbers = read_metrics(root, context.project.metrics)
    scalars = {key: value for key, value in metrics.headline(numbers, metric).items() if isinstance(value, float)}
    added = stats.get("rows", 0) - old_stats.get("rows", 0)
    return decisions.commit_message(added, changed, metric, numbers.get(metric, float("nan")), scalars)


def gate(context: Context, base_tag: str | None) -> decisions.GateVerdict:
    settings, metrics_file = context.config, context.project.metrics
    metric = settings.primary_metric
    new = metrics.value(read_metrics(context.root, metrics_file), metric, metrics_file)
    base = _comparable_release(context, base_tag) if base_tag else dvcmetrics.Comparable()
    lower, relative = settings.direction == "lower", settings.threshold == "relative"
    return decisions.gate(metric, new, base.value, settings.max_regression, lower, relative, base.other, base.unread)


def _comparable_release(context: Context, base_tag: str) -> dvcmetrics.Comparable:
    """The primary metric of the latest release on this history whose metrics DVC can read (wherever they live):
    each one that cannot be read is one line naming it and why, never a silent "first release"."""

    def older() -> list[str]:
        versions = {tag: versioning.parse_tag(tag, context.artifact) for tag in context.releases_on_history()}
        ordered = sorted(((found, tag) for tag, found in versions.items() if found), reverse=True)
        return [tag for _, tag in ordered if tag != base_tag]

    project = context.project
    found = dvcmetrics.comparable(
        context.root, base_tag, older, project.metrics, project.config.primary_metric, context.pipeline.repo
    )
    if found.unread:
        context.progress.say(
            f"the gate cannot read the metrics of {found.unread}; it compares with {found.other or 'no release'}"
        )
    return found


def next_tag(context: Context, state: decisions.ReleaseState) -> str:
    """The next version after the base (on HEAD's history), skipping any number a tag anywhere already has."""
    root, base = context.root, state.base
    data_changed = base is None or context.raw_at(base.tag) != context.raw.in_tree(root)
    taken = [found for tag in state.taken if (found := versioning.parse_tag(tag, context.artifact))]
    version = versioning.next_free_version(base.version if base else None, data_changed, context.options.major, taken)
    return versioning.tag_name(context.artifact, version)


def tag(context: Context, state: decisions.ReleaseState) -> str:
    """Tag HEAD with the next version, the lineage in the annotated tag's message."""
    root = context.root
    name = next_tag(context, state)
    gitops.create_tag(root, name, versioning.tag_message(name, lineage(context)))
    context.progress.say(f"tagged {gitops.head(root)[:8]} as {name}")
    return name


def lineage(context: Context) -> versioning.Lineage:
    root = context.root
    lock = (root / layout.LOCK).read_text()
    found = context.project
    stats = read_output(root, found.data_stats) if found.data_stats else {}
    return versioning.Lineage(
        commit=gitops.head(root),
        data_hash=dvcfiles.lock_dep_hash(lock, found.raw.path) or "?",
        environment=environment.recorded(root, found.env_lock),
        rows=stats.get("rows"),
        batches=stats.get("batches"),
        params=versioning.flatten(config.read(root)),
        metrics=read_metrics(root, found.metrics),
        note=context.options.note,
        run_url=run_url(),
    )


def run_url() -> str | None:
    return os.environ.get("RETRAIN_RUN_URL") or github_run_url(os.environ) or os.environ.get("TRAVIS_BUILD_WEB_URL")


def github_run_url(env: Mapping[str, str]) -> str | None:
    """The GitHub Actions run this process is part of, from the runner's variables."""
    if all(env.get(key) for key in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")):
        return f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    return None
