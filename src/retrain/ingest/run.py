"""`retrain ingest SOURCE [--release] [--push | --hold | --resume] [--rescan]`: the steps, in the order that makes a
run safe to kill.

Nothing is recorded until the commit: deliveries are downloaded to a scratch folder, validated by the project's
own rules (release.validate_command), refused ones copied to rejected/ with their reason (the reason file is
their record), good ones uploaded to the DVC remote and verified there, and only then committed, each batch's
.dvc file carrying its ingest record. A run killed anywhere before the commit leaves no record, so the re-run
ingests the same deliveries; a run killed after it finds them recorded and only finishes the push.

`--hold` does all of `--push` but the git push (and, with --release, releases as a dry run: reproduce, upload, gate);
`--resume` then pushes what it committed, and releases from the run-cache, with the held run's report. CI runs the
long part held and mints its one-hour push token just before the resume.

Past 400 lines on purpose: the steps read top to bottom in the order a run takes them, which is what makes the
kill-safety above checkable by eye; landing, plan, keys, record, branches, report and retention are apart.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from retrain import decisions, dvcfiles, gitops, project, rawdata
from retrain.dvcops import Pipeline, StoredObject
from retrain.errors import BadInputError, NoOriginError, RetrainError
from retrain.ingest import branches, keys, plan, record, retention
from retrain.ingest import report as ingest_report
from retrain.ingest.landing import Landing, open_landing, reason_document, within
from retrain.ingest.plan import Delivery, Outcome, Status
from retrain.progress import Progress
from retrain.remotes import check_reachable
from retrain.shell import run_configured

SCRATCH = Path(".dvc") / "tmp" / "ingest"  # git-ignored, on the cache's file system
VALIDATE_CHUNK = 200  # files per validate_command call: keeps the command line short


class Step:
    PREFLIGHT = "preflight: git, params, DVC remote, landing"
    LIST = "list the landing"
    DOWNLOAD = "download new deliveries"
    VALIDATE = "validate"
    QUARANTINE = "quarantine refused deliveries"
    UPLOAD = "push data to the DVC remote"
    COMMIT = "commit"
    PUBLISH = "push to origin"
    EXPIRE = "delete originals older than release.ingest_retention_days"  # a step only when that is set
    REPORT = "report"
    ORDER = (PREFLIGHT, LIST, DOWNLOAD, VALIDATE, QUARANTINE, UPLOAD, COMMIT, PUBLISH, REPORT)
    WITH_RETENTION = (*ORDER[:-1], EXPIRE, REPORT)


@dataclass(frozen=True, kw_only=True)
class IngestOptions:
    source: str
    remote: str | None = None
    push: bool = False
    release: bool = False
    rescan: bool = False
    hold: bool = False  # everything but the git push; the release, if any, as a dry run
    resume: bool = False  # push (and release) what the held run committed; no new listing

    @property
    def pushes(self) -> bool:
        """Whether this run pushes to origin: --push, or --resume finishing a held run."""
        return self.push or self.resume

    @property
    def reads_origin(self) -> bool:
        """Whether origin's branches are fetched and counted: a held run will be pushed, so it counts them too."""
        return self.pushes or self.hold


@dataclass
class _Run:
    root: Path
    options: IngestOptions
    progress: Progress
    pipeline: Pipeline
    landing: Landing
    validate_command: str
    target: branches.Target
    scratch: Path
    raw_dir: str  # the batch folder (release.raw_data)
    retention_days: int | None = None
    landing_now: list[Delivery] = field(default_factory=list)  # the whole landing, listed when retention is set

    def step(self, name: str) -> AbstractContextManager[None]:
        order = Step.ORDER if self.retention_days is None else Step.WITH_RETENTION
        return self.progress.step(name, order.index(name) + 1)


def ingest(
    root: Path,
    options: IngestOptions,
    progress: Progress | None = None,
    then: Callable[[ingest_report.Summary], None] | None = None,
) -> ingest_report.Summary:
    """The whole run; `then` (the release, with --release) runs after the publish. Originals past the retention
    are deleted last, once all of that succeeded. Returns the summary, already written to reports/."""
    progress = progress or Progress(len(Step.ORDER))
    with progress.step(Step.PREFLIGHT, 1):
        run = _preflight(root, options, progress)
    try:
        summary = _resume(run) if options.resume else _ingest(run)
    finally:
        shutil.rmtree(run.scratch, ignore_errors=True)
    try:
        if then is not None:
            then(summary)
        summary.held = options.hold  # a resume that got here pushed (and released) what was held
        if run.retention_days is not None and summary.exit_code == 0 and not options.hold:
            with run.step(Step.EXPIRE):
                retention.expire(
                    root,
                    run.landing,
                    run.pipeline,
                    run.target.base,
                    run.landing_now,
                    run.retention_days,
                    summary,
                    run.progress,
                )
    finally:
        run.pipeline.close()
        with run.step(Step.REPORT):
            ingest_report.write(root, summary)
            progress.say(f"{ingest_report.INGEST_JSON}, {ingest_report.INGEST_MD}")
    return summary


def _ingest(run: _Run) -> ingest_report.Summary:
    root, landing, target = run.root, run.landing, run.target
    with run.step(Step.LIST):
        tree = record.read(root, target.record_revs)
        records = tree.of_source(landing.url)
        last = None if run.options.rescan else plan.marker(records, landing.url)
        start = plan.listing_start(last)
        if run.retention_days is None:
            listed = landing.list(start)
        else:  # retention looks at every original; it keeps the landing to about that many days of deliveries
            run.landing_now = landing.list(None)
            listed = [delivery for delivery in run.landing_now if start is None or delivery.key > start]
        rejected = {}  # reason files are read only for what git does not record: a few keys, not the history
        for delivery in plan.unrecorded(listed, records):
            if found := landing.rejection(delivery.key):
                rejected[delivery.key] = (found.etag, found.reason)
        outcomes = plan.triage(listed, records, rejected, tree.batches_by_md5)
        new = [outcome for outcome in outcomes if outcome.status is None]
        run.progress.say(_listing_note(landing, last, len(listed), len(new), len(records)))
    summary = ingest_report.Summary(
        source=landing.url,
        rejected_location=landing.rejected_url,
        mode=ingest_report.Mode.RELEASE if target.release else ingest_report.Mode.PULL_REQUEST,
        branch=target.branch,
        base=target.base,
        rescan=run.options.rescan,
        start_after=start,
        outcomes=outcomes,
        shown={outcome.delivery.key: landing.shown(outcome.delivery.key) for outcome in outcomes},
        retention_days=run.retention_days,
        held=run.options.hold,  # even with nothing to push: the resume then has nothing to do, and says so
    )
    files: dict[str, str] = {}
    message = ""
    if new:
        _refuse_unsafe_keys(run, new)
        _download(run, new)
        _validate(run, [outcome for outcome in new if outcome.status is None])
        _quarantine(run, [outcome for outcome in new if outcome.status is Status.REJECTED])
        good = _store(run, [outcome for outcome in new if outcome.status is None], tree)
        if good:
            files = _batch_files(run, good, tree, listed)
            message = _message(run, good)
            with run.step(Step.COMMIT):
                summary.commit = _commit(run, good, files, message)
        _name_duplicates(new)
    _publish(run, summary, files, message)
    if not target.release and target.tip:
        summary.pending_batches = branches.pending(root, target.tip, target.base_rev)
    return summary


def _resume(run: _Run) -> ingest_report.Summary:
    """--resume: the held run's deliveries (its report), pushed now. Nothing is listed again, so nothing new is
    ingested under a token meant for the push; retention, the last step, lists the landing as a plain run does."""
    with run.step(Step.LIST):
        summary = ingest_report.read_held(run.root, run.landing.url, run.target.release)
        held_on = run.target.branch if run.target.release else (run.target.tip or "")
        if summary.commit and not (held_on and gitops.is_ancestor(run.root, summary.commit, held_on)):
            raise BadInputError(
                f"{ingest_report.INGEST_JSON}: the held commit {summary.commit[:8]} is not on {run.target.branch} "
                "any more: run `retrain ingest SOURCE --hold` again, then --resume."
            )
        run.progress.say(f"resuming the held run: {summary.headline()}")
        if run.retention_days is not None:
            run.landing_now = run.landing.list(None)
    _publish(run, summary, {}, "")
    if not run.target.release and run.target.tip:
        summary.pending_batches = branches.pending(run.root, run.target.tip, run.target.base_rev)
    return summary


def _listing_note(landing: Landing, last: str | None, listed: int, new: int, recorded: int) -> str:
    where = f"from {landing.shown(last)}, the last key recorded, on" if last else "the whole landing"
    return f"listed {listed} key(s) ({where}); {new} new; {recorded} delivery(ies) from there recorded in git"


# --- 1. preflight -------------------------------------------------------------------------------------------
def _preflight(root: Path, options: IngestOptions, progress: Progress) -> _Run:
    gitops.current_branch(root)
    if lock := gitops.index_lock(root):
        shown = os.path.relpath(lock, root)
        raise RetrainError(
            f"{shown} exists: a git or DVC command is running in this clone, or one was killed while writing. "
            f"If none is running, delete {shown} and re-run."
        )
    found = project.load(root)
    raw_dir = found.raw.folder  # ingest adds batches: a single tracked file cannot take them
    _remove_leftovers(root, progress, raw_dir)
    if options.release and (dirty := [n for n in gitops.dirty_tracked_files(root) if n not in found.engine_owned]):
        raise BadInputError(f"uncommitted changes to {', '.join(dirty[:5])}: commit or stash them first.")
    settings = found.config
    if settings.ingest_retention_days is not None:
        progress.total = len(Step.WITH_RETENTION)
    if not settings.validate_command:
        raise BadInputError(
            "params.yaml: release.validate_command is not set: ingest checks deliveries with it (a command "
            "that takes the delivery files; see docs/adopt.md)."
        )
    pipeline = Pipeline(root, options.remote)
    check_reachable(pipeline.remote, pipeline.remote_config, root)
    landing = open_landing(options.source, pipeline.remote_config)
    landing.check()
    if options.reads_origin:
        if not gitops.has_remote(root):
            flag = "--hold" if options.hold else "--resume" if options.resume else "--push"
            raise NoOriginError(flag)
        gitops.fetch(root)
    target = branches.choose(root, plan.branch_name(landing.label), options.reads_origin, options.release, progress)
    progress.say(f"landing {landing.url}, DVC remote `{pipeline.remote}`, batches go to {target.branch}")
    scratch = root / SCRATCH
    shutil.rmtree(scratch, ignore_errors=True)  # a killed run's downloads: never recorded, so never needed
    scratch.mkdir(parents=True)
    return _Run(
        root,
        options,
        progress,
        pipeline,
        landing,
        settings.validate_command,
        target,
        scratch,
        raw_dir,
        settings.ingest_retention_days,
    )


def _remove_leftovers(root: Path, progress: Progress, raw_dir: str) -> None:
    """An ingest killed between writing a batch's .dvc file into the batch folder and committing it (release mode;
    the .dvc file is written first) left files no commit records: remove them, the re-run ingests the delivery again."""
    for name in gitops.untracked_files(root, raw_dir):  # one git call, however many batches
        if not name.endswith(rawdata.DVC_SUFFIX):
            continue
        path = root / name
        _, ingest_record = dvcfiles.batch_record(path.read_text())
        if ingest_record is not None:
            path.unlink()
            (root / name.removesuffix(rawdata.DVC_SUFFIX)).unlink(missing_ok=True)
            progress.say(f"removed {name}: left uncommitted by an interrupted ingest, which this run redoes")


# --- 2-6. read, validate, quarantine, store -----------------------------------------------------------------
def _refuse_unsafe_keys(run: _Run, new: list[Outcome]) -> None:
    """A key that is a path (or holds hidden characters) is refused before anything is validated: it is still
    downloaded, to a scratch file the engine names, for its quarantine copy under a name made from its hash."""
    for outcome in new:
        if found := run.landing.fault(outcome.delivery.key):
            outcome.status = Status.REJECTED
            outcome.reason = keys.refusal(run.landing.shown(outcome.delivery.key), found)


def _download(run: _Run, new: list[Outcome]) -> None:
    with run.step(Step.DOWNLOAD):
        total = 0
        for outcome in new:
            read = run.landing.download(outcome.delivery, _scratch_path(run, outcome.delivery))
            if read is None:
                outcome.status = Status.NOT_READ
                continue
            outcome.delivery = read  # the version actually read: its ETag and version id are what is recorded
            total += read.size
        count = sum(o.status in (None, Status.REJECTED) for o in new)
        run.progress.say(f"{count} delivery(ies), {total:,} bytes")


def _scratch_path(run: _Run, delivery: Delivery) -> Path:
    """Named by the engine, never by the key: a key is data, and the scratch folder sits inside the project."""
    return within(run.scratch, keys.scratch_name(delivery.key))


def _validate(run: _Run, outcomes: list[Outcome]) -> None:
    if not outcomes:
        return
    with run.step(Step.VALIDATE):
        for start in range(0, len(outcomes), VALIDATE_CHUNK):
            chunk = outcomes[start : start + VALIDATE_CHUNK]
            names = {os.path.relpath(_scratch_path(run, o.delivery), run.root): o for o in chunk}
            verdicts = _run_validator(run, list(names))
            for name, outcome in names.items():
                if error := verdicts[name]:
                    outcome.status = Status.REJECTED
                    shown = run.landing.shown(outcome.delivery.key)
                    outcome.reason = error.replace(name, shown, 1) if error.startswith(name) else f"{shown}: {error}"
        refused = sum(o.status is Status.REJECTED for o in outcomes)
        run.progress.say(f"{len(outcomes) - refused} valid, {refused} refused (`{run.validate_command}`)")


def _run_validator(run: _Run, names: list[str]) -> dict[str, str | None]:
    import json

    command = f"{run.validate_command} {' '.join(shlex.quote(name) for name in names)}"
    result = run_configured(command, run.root)
    verdicts: dict[str, str | None] = {}
    for line in result.stdout.splitlines():
        try:
            item = json.loads(line)
            verdicts[str(item["file"])] = item["error"]
        except (ValueError, KeyError, TypeError):
            continue
    if result.returncode not in (0, BadInputError.exit_code) or set(verdicts) != set(names):
        said = (result.stderr.strip().splitlines() or [f"exited with {result.returncode}"])[-1]
        raise RetrainError(
            f"release.validate_command `{run.validate_command}` did not give one verdict per delivery ({said}); "
            "nothing was recorded. Fix the command and re-run."
        )
    return verdicts


def _quarantine(run: _Run, refused: list[Outcome]) -> None:
    if not refused:
        return
    with run.step(Step.QUARANTINE):
        for outcome in refused:
            document = reason_document(run.landing.url, outcome.delivery, outcome.reason or "", plan.iso(plan.now()))
            run.landing.quarantine(outcome.delivery, _scratch_path(run, outcome.delivery), document)
        run.progress.say(f"{len(refused)} copied to {run.landing.rejected_url} with a .reason.yaml each")


def _store(run: _Run, valid: list[Outcome], tree: record.Tree) -> list[Outcome]:
    """Into the DVC cache and the remote, verified there; duplicates (same bytes as a batch) are not stored."""
    if not valid:
        return []
    with run.step(Step.UPLOAD):
        known: dict[str, str | Outcome] = dict(tree.batches_by_md5)
        good = []
        for outcome in valid:
            md5, _ = run.pipeline.store(_scratch_path(run, outcome.delivery))
            if (first := known.get(md5)) is not None:
                outcome.status = Status.DUPLICATE
                outcome.extra["same_as"] = first  # a batch, or a delivery of this run (named at the commit)
                continue
            outcome.md5, known[md5] = md5, outcome
            good.append(outcome)
        objects = [StoredObject(o.md5 or "", run.landing.shown(o.delivery.key)) for o in good]
        missing = run.pipeline.missing_in_remote([(item.label, item.oid) for item in objects])
        run.pipeline.upload_from_cache(missing)
        if still := run.pipeline.missing_in_remote([(item.label, item.oid) for item in objects]):
            raise RetrainError(
                f"{len(still)} delivery(ies) not in DVC remote `{run.pipeline.remote}` after the upload "
                f"({still[0].label}); nothing was committed. Re-run when the remote is reachable."
            )
        duplicates = len(valid) - len(good)
        run.progress.say(
            f"{len(missing)} object(s) uploaded to `{run.pipeline.remote}`, {len(good)} verified there"
            + (f"; {duplicates} duplicate(s) of a batch not stored again" if duplicates else "")
        )
    return good


# --- 7-8. commit, publish -------------------------------------------------------------------------------
def _batch_files(run: _Run, good: list[Outcome], tree: record.Tree, listed: list[Delivery]) -> dict[str, str]:
    """The new batches' .dvc files (path -> text), named and numbered after every batch the record knows."""
    number = plan.next_number(tree.names)
    through = max(delivery.key for delivery in listed if run.landing.fault(delivery.key) is None)
    ingested = plan.iso(plan.now())
    files = {}
    for outcome in good:
        delivery = outcome.delivery
        name = plan.batch_name(number, delivery.modified, run.landing.label, run.landing.relative(delivery.key))
        if not keys.is_plain_file_name(name):  # the slug rule makes one; checked because a key chose part of it
            raise RetrainError(f"batch name {name!r} is not a plain file name; nothing was committed. Report this.")
        number += 1
        outcome.status, outcome.batch = Status.INGESTED, f"{run.raw_dir}/{name}"
        meta = record.meta(
            run.landing.url,
            delivery.key,
            delivery.etag,
            delivery.version_id,
            delivery.size,
            plan.iso(delivery.modified),
            ingested,
            through,
            outcome.replaces,
        )
        text = dvcfiles.batch_dvc_file(name, outcome.md5 or "", delivery.size, meta)
        files[f"{outcome.batch}{rawdata.DVC_SUFFIX}"] = text
    return files


def _name_duplicates(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        if outcome.status is Status.DUPLICATE and outcome.batch is None:
            same = outcome.extra.get("same_as")
            outcome.batch = same.batch if isinstance(same, Outcome) else same


def _message(run: _Run, good: list[Outcome]) -> str:
    ingested = [(run.landing.shown(o.delivery.key), o.delivery.etag, o.batch or "") for o in good]
    # With --release this job releases the commit itself: the engine's trailer (not a skip instruction, which would
    # leave required checks pending) keeps the push of it from starting a second release run.
    return plan.commit_message(run.landing.url, ingested, decisions.COMMIT_MARK if run.target.release else None)


def _commit(run: _Run, good: list[Outcome], files: dict[str, str], message: str) -> str:
    root, target = run.root, run.target
    if target.release:  # in the work tree, as a person adds a batch (the release reproduces from it)
        for path, text in files.items():  # the .dvc files first: what a killed run leaves is then recognisable
            (root / path).write_text(text)
        for outcome in good:
            shutil.copyfile(_scratch_path(run, outcome.delivery), root / (outcome.batch or ""))
        made = gitops.commit(root, sorted(files), message)
    else:
        made = branches.commit(root, target, files, message)
    run.progress.say(f"committed {len(files)} batch(es) on {target.branch} as {made[:8]}")
    return made


def _publish(run: _Run, summary: ingest_report.Summary, files: dict[str, str], message: str) -> None:
    root, target = run.root, run.target
    if not branches.needs_push(root, target):
        return
    if not run.options.pushes:
        summary.would_push = True
        where = f"{target.branch} (then a pull request to {target.base})" if not target.release else target.branch
        if run.options.hold:
            run.progress.say(f"held (--hold): `retrain ingest --resume` pushes {where} to origin")
        else:
            run.progress.say(f"not pushed (no --push): would push {where} to origin")
        return
    with run.step(Step.PUBLISH):
        branches.push(root, target, files, message, run.progress)
        summary.pushed, summary.would_push = True, False
        run.progress.say(f"pushed {target.branch} to origin")


# --- the command ----------------------------------------------------------------------------------------------
def ingest_command(root: Path, options: IngestOptions) -> int:
    """`retrain ingest`: the run, then (--release) the same release as `retrain run`; one line per delivery, the
    summary last; the exit code (a gated release raises GatedError, exit 3, after the report is written)."""
    from retrain.errors import GatedError

    ran: list[ingest_report.Summary] = []

    def then(summary: ingest_report.Summary) -> None:
        ran.append(summary)
        if options.release and summary.exit_code == 0:
            from retrain.run import RunOptions  # imported here: GTO's import costs a run that does not release
            from retrain.run import run as release

            try:
                outcome = release(root, RunOptions(remote=options.remote, push=options.pushes, dry_run=options.hold))
                summary.release = {"status": outcome.status.value, "tag": outcome.tag, "message": outcome.message}
            except GatedError as gated:
                summary.release = {"status": "gated", "tag": None, "message": str(gated)}
                raise

    try:
        ingest(root, options, then=then)
    finally:
        for summary in ran:
            for text in summary.lines():
                print(text)
            print(summary.headline() + (f"; {summary.release['message']}" if summary.release else ""))
    summary = ran[0]
    if summary.exit_code:
        raise BadInputError(
            f"every new delivery was refused: see the lines above and {ingest_report.INGEST_JSON}; each was copied "
            f"to {summary.rejected_location} with its reason. Deliver corrected files under new names."
        )
    return 0
