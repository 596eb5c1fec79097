"""`retrain run`: turn the current commit into a verified, gated, tagged snapshot of code + data + model.

Order: preflight, reproduce (pulling only what is needed, reusing the run-cache), push, verify object by
object, commit dvc.lock, gate, tag, push to origin, report. A failure at any step leaves git, the tags and the
remote consistent; a re-run finishes the job.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from retrain import gitops, reporting, versioning
from retrain.dvcops import Pipeline, StoredObject
from retrain.errors import BadInputError, GatedError, RetrainError
from retrain.params import PARAMS_FILE, read_params_file, validate_all
from retrain.progress import Progress
from retrain.remotes import check_reachable
from retrain.report import Report, preload_plotting
from retrain.reporting import DATA_STATS, METRICS

RAW_DIR = "data/raw"
RAW_DVC = "data/raw.dvc"
LOCK = "dvc.lock"
REPORT = Path("reports/report.md")
RUN_SUMMARY = Path("reports/run.json")
PIPELINE_FILES = ("dvc.yaml", LOCK, RAW_DVC, str(PARAMS_FILE))
# Files a run rewrites: left modified by an interrupted run, they do not block the next one.
ENGINE_OWNED = (LOCK, METRICS, DATA_STATS)
COMMIT_MARK = "[skip ci]"
MAX_PUSH_ATTEMPTS = 3
STEPS = 9  # the cycle's steps, numbered as in the README; a run skips some (no --push, up to date)


@dataclass(frozen=True)
class RunOptions:
    remote: str | None = None
    push: bool = False
    force: bool = False
    dry_run: bool = False
    note: str | None = None
    major: bool = False


@dataclass
class RunResult:
    status: str  # released | up_to_date | gated | dry_run
    tag: str | None
    commit: str | None
    message: str


def artifact_name(root: Path) -> str:
    """The model artifact declared in dvc.yaml (`artifacts:` with type model); GTO tags use its name."""
    spec = yaml.safe_load((root / "dvc.yaml").read_text()) or {}
    for name, artifact in (spec.get("artifacts") or {}).items():
        if (artifact or {}).get("type") == "model":
            return name
    raise BadInputError("dvc.yaml declares no artifact of type model under `artifacts:`; add one.")


def run_url() -> str | None:
    if url := os.environ.get("RETRAIN_RUN_URL"):
        return url
    if all(os.environ.get(key) for key in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")):
        server, repository = os.environ["GITHUB_SERVER_URL"], os.environ["GITHUB_REPOSITORY"]
        return f"{server}/{repository}/actions/runs/{os.environ['GITHUB_RUN_ID']}"
    return os.environ.get("TRAVIS_BUILD_WEB_URL")


def _raw_hash(text: str | None) -> str | None:
    if not text:
        return None
    outs = (yaml.safe_load(text) or {}).get("outs") or [{}]
    return outs[0].get("md5")


class Release:
    """One `retrain run`: holds what the steps share."""

    def __init__(self, root: Path, options: RunOptions, progress: Progress) -> None:
        self.root = root
        self.options = options
        self.progress = progress
        self.artifact = artifact_name(root)
        self.pipeline: Pipeline | None = None
        self.branch = ""
        self.made_commit: str | None = None

    # --- 1. preflight ---------------------------------------------------------------------------------------
    def preflight(self) -> None:
        root = self.root
        self.branch = gitops.current_branch(root)
        if lock := gitops.index_lock(root):
            shown = os.path.relpath(lock, root)
            raise RetrainError(
                f"{shown} exists: a git or DVC command is running in this clone, or one was killed while writing "
                f"(a cancelled job). If none is running, delete {shown} and re-run."
            )
        if marked := gitops.conflict_markers(root, list(PIPELINE_FILES)):
            raise BadInputError(
                f"{marked}: holds a merge-conflict marker; resolve the conflict (for .dvc files and dvc.lock, "
                "`git checkout --theirs` then `dvc repro` regenerates them), commit, and re-run."
            )
        dirty = [name for name in gitops.dirty_tracked_files(root) if name not in ENGINE_OWNED]
        if dirty:
            raise BadInputError(
                f"uncommitted changes to {', '.join(dirty[:5])}: commit or stash them first; a release "
                "snapshots committed code only."
            )
        self._check_lock_parses()
        validate_all(read_params_file(root / PARAMS_FILE, PARAMS_FILE), PARAMS_FILE)
        self.pipeline = Pipeline(root, self.options.remote)
        check_reachable(self.pipeline.remote, self.pipeline.remote_config, root)
        self.progress.say(f"branch {self.branch}, remote `{self.pipeline.remote}` reachable")
        if self.options.push:
            self._reconcile_with_origin()

    def _check_lock_parses(self) -> None:
        for name in (LOCK, RAW_DVC):
            path = self.root / name
            if not path.exists():
                continue
            try:
                content = yaml.safe_load(path.read_text())
            except yaml.YAMLError as error:
                raise BadInputError(
                    f"{name}: corrupted ({str(error).splitlines()[0]}); restore it with "
                    f"`git checkout HEAD -- {name}` (dvc.lock is regenerated by the run)."
                ) from None
            if not isinstance(content, dict):
                raise BadInputError(
                    f"{name}: corrupted (not a mapping); restore it with `git checkout HEAD -- {name}`."
                )

    def _reconcile_with_origin(self) -> None:
        """Make local release tags agree with origin: origin's tags win; a tag origin lacks is kept only on HEAD."""
        root = self.root
        if not gitops.has_remote(root):
            raise BadInputError("--push needs a git remote named `origin`; add it with `git remote add origin URL`.")
        local = gitops.tags(root, f"{self.artifact}@v*")
        remote = gitops.remote_tags(root, f"{self.artifact}@v*")
        head = gitops.head(root)
        for tag, sha in local.items():
            if tag in remote and remote[tag] != sha:
                gitops.delete_tag(root, tag)
                self.progress.say(f"local tag {tag} differed from origin's: replaced by origin's")
            elif tag not in remote and sha != head:
                gitops.delete_tag(root, tag)
                self.progress.say(f"local tag {tag} never reached origin and is not on HEAD: removed")
        gitops.fetch(root)

    # --- 2-5. data: materialise, reproduce, push, verify ----------------------------------------------------
    def ensure_raw_data(self) -> None:
        """Raw data cannot be recomputed: make sure every batch is in the remote, this cache, or rebuildable.

        A fresh machine with an empty default remote rebuilds the first batch from scikit-learn.
        """
        assert self.pipeline is not None
        pipeline = self.pipeline
        expected = _raw_hash((self.root / RAW_DVC).read_text())
        missing = pipeline.missing_in_remote([(RAW_DIR, expected)])
        not_local = [item for item in missing if not Path(pipeline.cache_path(item.oid)).is_file()]
        if not not_local:
            return  # the push (or the verify step's repair) uploads them from this cache
        raw = self.root / RAW_DIR
        if raw.exists():
            if pipeline.workspace_hash(RAW_DIR) != expected:
                raise BadInputError(
                    f"{RAW_DIR} differs from {RAW_DVC}: record new batches with `dvc add {RAW_DIR}` and commit "
                    f"{RAW_DVC}, or restore it with `dvc checkout {RAW_DVC}`."
                )
            pipeline.commit(RAW_DVC)  # same hash: only fills the cache, the .dvc file stays as it is
            return
        if any(item.label == RAW_DIR for item in missing):
            from retrain.dataset import write_batch  # pandas and scikit-learn: imported only to materialise
            from retrain.digits import SEED_BATCH_NAME, seed_batch

            raw.mkdir(parents=True)
            write_batch(seed_batch(), raw / SEED_BATCH_NAME)
            if pipeline.workspace_hash(RAW_DIR) != expected:
                shutil.rmtree(raw)
                raise BadInputError(
                    f"{RAW_DVC} names data ({expected}) that neither this machine nor remote `{pipeline.remote}` "
                    "has, and that is more than the bundled first batch: run on the remote that holds it "
                    "(`retrain run --remote NAME`), or push it there from a machine that has it."
                )
            pipeline.commit(RAW_DVC)
            self.progress.say(f"materialised {RAW_DIR}/{SEED_BATCH_NAME} from scikit-learn's bundled digits")
            return
        raise RetrainError(_missing_message(not_local, pipeline.remote))

    def check_append_only(self) -> None:
        """Raw data is append-only: every batch of the latest release must still be there, unchanged.

        This catches the classic slip of `dvc add data/raw` in a clone that never pulled the data.
        """
        assert self.pipeline is not None
        head = gitops.head(self.root)
        on_history = [
            tag
            for tag, sha in gitops.tags(self.root, f"{self.artifact}@v*").items()
            if gitops.is_ancestor(self.root, sha, head)
        ]
        base = versioning.latest(on_history, self.artifact)
        old_oid = _raw_hash(gitops.show_file(self.root, base[0], RAW_DVC)) if base else None
        new_oid = _raw_hash((self.root / RAW_DVC).read_text())
        if base is None or old_oid is None or old_oid == new_oid:
            return
        old = {item.label: item.oid for item in self.pipeline.expand([(RAW_DIR, old_oid)])[1:]}
        new = {item.label: item.oid for item in self.pipeline.expand([(RAW_DIR, new_oid)])[1:]}
        if not old or not new:
            return  # a manifest is nowhere to be had: the verify step reports missing objects
        lost = sorted(name for name, oid in old.items() if new.get(name) != oid)
        if lost:
            raise BadInputError(
                f"{RAW_DVC} drops or changes {len(lost)} batch(es) of the latest release {base[0]} "
                f"({', '.join(lost[:3])}): raw data is append-only. Did you `dvc add {RAW_DIR}` without "
                f"`dvc pull` first? Restore them (`git checkout {base[0]} -- {RAW_DVC} && dvc pull {RAW_DVC}`), "
                "copy your new batch in again, `dvc add`, commit and re-run."
            )

    def reproduce(self) -> None:
        assert self.pipeline is not None
        if self.options.force and not (self.root / RAW_DIR).exists():
            self.pipeline.pull([RAW_DVC])  # a forced repro re-checks data/raw.dvc too: it needs the data here
        complete_remote = not self.pipeline.missing_in_remote()
        outcome = self.pipeline.reproduce(
            force=self.options.force,
            allow_missing=complete_remote,
            # a stage runs, so the report will draw new plots: import matplotlib while the stages run
            on_stage_run=preload_plotting,
        )
        if outcome.ran or outcome.restored:
            parts = []
            if outcome.ran:
                warm = f" ({outcome.warm} in the warm stage host)" if outcome.warm else ""
                parts.append(f"ran {', '.join(outcome.ran)}{warm}")
            if outcome.restored:
                parts.append(f"restored from run-cache {', '.join(outcome.restored)}")
            self.progress.say("; ".join(parts))
        else:
            self.progress.say("nothing changed: no stage ran")
        self.outcome = outcome

    def push_data(self) -> None:
        assert self.pipeline is not None
        pushed = self.pipeline.push()
        self.progress.say(f"{pushed} file(s) uploaded to `{self.pipeline.remote}`")

    def verify(self) -> None:
        assert self.pipeline is not None
        missing = self.pipeline.missing_in_remote()
        if missing:
            repaired = self.pipeline.upload_from_cache(missing)
            if repaired:
                self.progress.say(f"re-uploaded {len(repaired)} object(s) the remote had lost")
            missing = self.pipeline.missing_in_remote()
        if missing:
            raise RetrainError(_missing_message(missing, self.pipeline.remote))
        self.progress.say(f"every object named by {LOCK} and {RAW_DVC} is in `{self.pipeline.remote}`")

    # --- 6-8. commit, gate, tag -----------------------------------------------------------------------------
    def latest_release(self) -> tuple[str, versioning.Version] | None:
        return versioning.latest(list(gitops.tags(self.root, f"{self.artifact}@v*")), self.artifact)

    def release_on_head(self) -> str | None:
        head = gitops.head(self.root)
        on_head = [tag for tag, sha in gitops.tags(self.root, f"{self.artifact}@v*").items() if sha == head]
        found = versioning.latest(on_head, self.artifact)
        return found[0] if found else None

    def changed_since(self, tag: str | None) -> bool:
        """Does the pipeline (dvc.lock: every input and output hash) differ from the release `tag`?"""
        if tag is None:
            return True
        return gitops.show_file(self.root, tag, LOCK) != (self.root / LOCK).read_text()

    def commit_message(self, base: str | None) -> str:
        new_stats = json.loads((self.root / DATA_STATS).read_text())
        new_metrics = json.loads((self.root / METRICS).read_text())
        old_stats = gitops.json_at(self.root, base, DATA_STATS) if base else {}
        parts = []
        added = new_stats.get("rows", 0) - old_stats.get("rows", 0)
        if added:
            parts.append(f"{added:+,} rows")
        params = read_params_file(self.root / PARAMS_FILE)
        changed = versioning.changed_params(gitops.yaml_at(self.root, base, PARAMS_FILE), params) if base else {}
        parts += [f"{key} {old}->{new}" for key, (old, new) in changed.items()]
        parts.append(f"accuracy {new_metrics['accuracy']:.4f}, macro F1 {new_metrics['f1_macro']:.4f}")
        return f"retrain: {'; '.join(parts)} {COMMIT_MARK}"

    def commit(self, base: str | None) -> None:
        dirty = [name for name in gitops.dirty_tracked_files(self.root) if name in ENGINE_OWNED]
        untracked = [
            name
            for name in ENGINE_OWNED
            if (self.root / name).exists() and not gitops.show_file(self.root, "HEAD", name)
        ]
        paths = sorted(set(dirty) | set(untracked))
        if not paths:
            self.progress.say("dvc.lock already matches: nothing to commit")
            return
        self.made_commit = gitops.commit(self.root, paths, self.commit_message(base))
        self.progress.say(f"committed {', '.join(paths)} as {self.made_commit[:8]}")

    def gate(self, base: str | None) -> versioning.GateVerdict:
        from retrain.params import load_release

        release = load_release(self.root / PARAMS_FILE)
        new = json.loads((self.root / METRICS).read_text())[release.primary_metric]
        old = gitops.json_at(self.root, base, METRICS).get(release.primary_metric) if base else None
        return versioning.gate(release.primary_metric, new, old, release.max_regression)

    def lineage(self) -> versioning.Lineage:
        stats = json.loads((self.root / DATA_STATS).read_text())
        return versioning.Lineage(
            commit=gitops.head(self.root),
            data_hash=_raw_hash((self.root / RAW_DVC).read_text()) or "?",
            rows=stats.get("rows", 0),
            batches=stats.get("batches", 0),
            params=versioning.flatten(read_params_file(self.root / PARAMS_FILE)),
            metrics=json.loads((self.root / METRICS).read_text()),
            note=self.options.note,
            run_url=run_url(),
        )

    def next_tag(self, base: tuple[str, versioning.Version] | None) -> str:
        data_changed = base is None or _raw_hash(gitops.show_file(self.root, base[0], RAW_DVC)) != _raw_hash(
            (self.root / RAW_DVC).read_text()
        )
        version = versioning.next_version(base[1] if base else None, data_changed, self.options.major)
        return versioning.tag_name(self.artifact, version)

    def undo_local_release(self, tag: str | None) -> None:
        """After origin refused the push: drop this run's tag, and the engine's commits origin lacks (with any
        local-only release tag on them: that release is made again on top of origin), then catch up with
        origin by rebasing the user's own commits."""
        if tag and tag in gitops.tags(self.root, tag):
            gitops.delete_tag(self.root, tag)
        self.made_commit = None
        gitops.fetch(self.root)
        upstream = f"origin/{self.branch}"
        self._drop_engine_commits(upstream)
        self._fetch_manifests(upstream)
        if not gitops.rebase(self.root, upstream):
            raise RetrainError(
                f"origin/{self.branch} moved and your local commits conflict with it: run "
                f"`git pull --rebase origin {self.branch}`, resolve, then re-run."
            )
        assert self.pipeline is not None
        self.pipeline.checkout([RAW_DVC])  # the rebase may have changed data/raw.dvc (the hook skips rebases)

    def _drop_engine_commits(self, upstream: str) -> None:
        """Remove, from the top of the branch, the engine's own commits that origin lacks: they only record
        dvc.lock and metrics, which the retry regenerates; rebased they would conflict with origin's."""
        root, pattern = self.root, f"{self.artifact}@v*"
        local_only = set(gitops.tags(root, pattern)) - set(gitops.remote_tags(root, pattern))
        while True:
            head = gitops.head(root)
            parent = gitops.git(root, "rev-parse", "--verify", "--quiet", "HEAD~1", check=False)
            if not parent or gitops.is_ancestor(root, head, upstream):
                return
            subject = gitops.git(root, "log", "-1", "--format=%s", "HEAD")
            if COMMIT_MARK not in subject or not set(gitops.changed_files(root, parent, head)) <= set(ENGINE_OWNED):
                return
            for name, sha in gitops.tags(root, pattern).items():
                if sha == head and name in local_only:
                    gitops.delete_tag(root, name)
                    self.progress.say(f"local release {name} never reached origin: made again on top of origin")
            gitops.reset_hard(root, parent)

    def _fetch_manifests(self, upstream: str) -> None:
        """DVC's merge driver unions two deliveries in data/raw.dvc only when it has both sides' .dir manifests
        (and the common ancestor's) in the cache: fetch origin's data before rebasing onto it."""
        assert self.pipeline is not None
        base = gitops.git(self.root, "merge-base", "HEAD", upstream, check=False)
        for rev in (upstream, base):
            oid = _raw_hash(gitops.show_file(self.root, rev, RAW_DVC)) if rev else None
            if oid and not Path(self.pipeline.cache_path(oid)).is_file():
                try:
                    self.pipeline.fetch_objects({RAW_DIR: oid})
                except Exception as error:  # the rebase then reports the conflict
                    self.progress.say(f"could not fetch {RAW_DIR} of {rev[:12]} ({error})")


def _missing_message(missing: list[StoredObject], remote: str) -> str:
    shown = ", ".join(f"{item.label} ({item.oid})" for item in missing[:3])
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    return (
        f"{len(missing)} object(s) missing from remote `{remote}` and from this machine's cache: {shown}{more}. "
        "Nothing was committed or tagged. Push them from a machine that has them (`dvc push -r "
        f"{remote}`), then re-run."
    )


def _write_report(release: Release, headline: str, base_tag: str | None, verdict=None, tag: str | None = None):
    assert release.pipeline is not None
    report = Report(
        title=f"Retrain report{f': {tag}' if tag else ''}",
        base_label=base_tag or "no earlier release",
        headline=headline,
        gate=verdict,
    )
    reporting.compare(release.root, report, base_tag)
    return reporting.write(report, release.root, REPORT, base_tag)


def _summary(root: Path, result: RunResult) -> RunResult:
    path = root / RUN_SUMMARY
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"status": result.status, "tag": result.tag, "commit": result.commit}) + "\n")
    return result


def run(root: Path, options: RunOptions, progress: Progress | None = None) -> RunResult:
    """The whole cycle; returns what happened, raises RetrainError (with its exit code) on failure."""
    progress = progress or Progress(STEPS)
    release = Release(root, options, progress)
    with progress.step("preflight: git, params, remote", 1):
        release.preflight()
    assert release.pipeline is not None
    remote = release.pipeline.remote
    for attempt in range(1, MAX_PUSH_ATTEMPTS + 1):
        with progress.step("pull what is needed, reproduce", 2):
            release.ensure_raw_data()
            release.check_append_only()
            release.reproduce()
        with progress.step(f"push data and run-cache to `{remote}`", 3):
            release.push_data()
        with progress.step("verify every object in the remote", 4):
            release.verify()
        base = release.latest_release()
        base_tag = base[0] if base else None
        on_head = release.release_on_head()
        changed = on_head is None and release.changed_since(base_tag)

        if options.dry_run:
            with progress.step("quality gate (dry run)", 6):
                verdict = release.gate(base_tag) if changed else None
            would = release.next_tag(base) if changed else None
            pending = [n for n in gitops.dirty_tracked_files(root) if n in ENGINE_OWNED]
            if verdict is not None and not verdict.passed:
                headline = f"dry run: would be gated, no tag. {verdict.reason}"
            elif would:
                headline = f"dry run: would commit {', '.join(pending) or 'nothing'} and tag {would}"
            else:
                headline = f"dry run: up to date: {on_head or base_tag}"
            with progress.step("report", 9):
                _write_report(release, headline, base_tag, verdict, would)
            if verdict is not None and not verdict.passed:
                raise GatedError(headline)
            return _summary(root, RunResult("dry_run", would, None, headline))

        with progress.step("commit dvc.lock", 5):
            release.commit(base_tag)
        if not changed:
            tag = on_head or base_tag
            if options.push and tag and on_head:
                with progress.step("push commit and tag to origin", 8):
                    try:
                        _push_if_missing(release, tag)
                    except gitops.PushRejectedError as rejected:  # origin moved since this local release
                        _after_rejection(release, tag, attempt, rejected)
                        continue
            headline = f"up to date: {tag}" if tag else "up to date: nothing to release"
            with progress.step("report", 9):
                _write_report(release, headline, base_tag)
            return _summary(root, RunResult("up_to_date", tag, gitops.head(root), headline))

        with progress.step("quality gate", 6):
            verdict = release.gate(base_tag)
            progress.say(verdict.reason)
        if not verdict.passed:
            headline = f"gated: no tag. {verdict.reason}"
            with progress.step("report", 9):
                _write_report(release, headline, base_tag, verdict)
            _summary(root, RunResult("gated", None, gitops.head(root), headline))
            raise GatedError(headline + ". Fix the data or params on a branch; the latest release stays as it is.")

        with progress.step("tag", 7):
            tag = release.next_tag(base)
            gitops.create_tag(root, tag, versioning.tag_message(tag, release.lineage()))
            progress.say(f"tagged {gitops.head(root)[:8]} as {tag}")
        if options.push:
            with progress.step("push commit and tag to origin", 8):
                try:
                    gitops.push_atomic(root, release.branch, tag)
                except gitops.PushRejectedError as rejected:
                    _after_rejection(release, tag, attempt, rejected)
                    continue
        with progress.step("report", 9):
            _write_report(release, f"released {tag}", base_tag, verdict, tag)
        return _summary(root, RunResult("released", tag, gitops.head(root), f"released {tag}"))
    raise AssertionError("unreachable: the loop returns or raises")


def _after_rejection(release: Release, tag: str, attempt: int, rejected: gitops.PushRejectedError) -> None:
    """Undo the local release and catch up with origin, for a retry; or give up after the last attempt."""
    if attempt == MAX_PUSH_ATTEMPTS:
        release.undo_local_release(tag)
        raise RetrainError(
            f"{rejected}; gave up after {attempt} attempts: nothing was pushed, and the local tag and release "
            "commit were removed. Re-run when origin accepts the push."
        ) from None
    release.progress.say(
        f"{rejected}: catching up with origin/{release.branch}; attempt {attempt + 1} of {MAX_PUSH_ATTEMPTS} "
        "from step 2"
    )
    release.undo_local_release(tag)


def _push_if_missing(release: Release, tag: str) -> None:
    """Finish an interrupted release: push HEAD and its tag if origin lacks them."""
    if tag in gitops.remote_tags(release.root, tag):
        release.progress.say(f"origin already has {tag}")
        return
    gitops.push_atomic(release.root, release.branch, tag)
    release.progress.say(f"pushed {release.branch} and {tag} to origin")
