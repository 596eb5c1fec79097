"""DVC edge: the repository opened on one remote, each DVC operation the engine needs as one function (file formats:
retrain.dvcfiles; run-cache: retrain.runcache). In-process: a run pays DVC's import and index once, not per command;
stages run as DVC runs them, this interpreter first on PATH."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Collection, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrain.errors import STAGE_ERROR_FILE_ENV, BadInputError, RetrainError
from retrain.remotes import push_advice
from retrain.shell import venv_path_env

if TYPE_CHECKING:
    from dvc_data.hashfile.db import HashFileDB
    from dvc_data.hashfile.hash_info import HashInfo

STAGE_EXIT = re.compile(r"exited with (\d+)")


@dataclass
class ReproOutcome:
    ran: list[str] = field(default_factory=list)  # stages whose command executed
    restored: list[str] = field(default_factory=list)  # stages restored from the run-cache
    unchanged: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StoredObject:
    oid: str  # md5, with ".dir" for a directory manifest
    label: str  # what a person recognises: the output path, and the member inside a directory


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _dvc_messages() -> Iterator[_Collect]:
    handler = _Collect()
    logger = logging.getLogger("dvc")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@contextmanager
def _stage_environment() -> Iterator[None]:
    """What the stage commands inherit: this environment's bin first on PATH (so `python` in a stage's cmd is the
    interpreter retrain runs in, even from cron or an IDE), and a file for a failing stage's one-line error."""
    import tempfile

    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="retrain-stage-") as folder:
        os.environ["PATH"] = venv_path_env()["PATH"]
        os.environ[STAGE_ERROR_FILE_ENV] = os.path.join(folder, "error.txt")
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def _classify(messages: list[str]) -> ReproOutcome:
    outcome = ReproOutcome()
    for message in messages:
        if match := re.match(r"Running stage '(.+)':", message):
            outcome.ran.append(match.group(1))
        elif match := re.match(r"Stage '(.+)' is cached - skipping run", message):
            outcome.restored.append(match.group(1))
        elif match := re.match(r"Stage '(.+)' didn't change, skipping", message):
            outcome.unchanged.append(match.group(1))
    return outcome


def remote_errors() -> tuple[type[BaseException], ...]:
    """What a remote or file store raises when it fails: OS and network errors, DVC's own, the AWS SDK's. A bug
    raises something else and leaves its traceback in the log instead of passing for an unreachable remote."""
    from dvc.exceptions import DvcException

    found: list[type[BaseException]] = [OSError, DvcException]
    try:
        from botocore.exceptions import BotoCoreError, ClientError

        found += [BotoCoreError, ClientError]
    except ImportError:  # a project with no S3 remote may lack the AWS SDK
        pass
    return tuple(found)


class Pipeline:
    """A DVC repository opened with `remote` as the default remote (no edit of .dvc/config)."""

    def __init__(self, root: Path, remote: str | None, hold: bool = False) -> None:
        """With `hold`, DVC's lock is taken now and kept until `close`: DVC keeps its index across operations (it
        drops it whenever it takes the lock itself), and no other DVC process changes the repository meanwhile."""
        from dvc.repo import Repo, lock_repo  # imported here: DVC's import is the slow part of start-up

        self.root = root
        self.repo = Repo(str(root), remote=remote)
        self._held = ExitStack()
        self._kept: tuple[tuple[object, ...], Any] | None = None  # (what the DVC files were, the index built then)
        self.remote = remote or self.repo.config["core"].get("remote")
        if not self.remote:
            raise BadInputError("no DVC remote chosen: pass --remote NAME or set RETRAIN_REMOTE.")
        if self.remote not in self.repo.config["remote"]:
            known = ", ".join(self.repo.config["remote"]) or "none"
            raise BadInputError(f"DVC remote `{self.remote}` is not configured (known: {known}); see .dvc/config.")
        if hold:
            self._held.enter_context(lock_repo(self.repo))

    def close(self) -> None:
        self._held.close()
        self.repo.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def track(self, paths: list[str]) -> None:
        """`dvc add` of each path: one .dvc file beside each."""
        self.repo.add(paths)

    def untrack(self, dvc_file: str) -> None:
        """`dvc remove` of a .dvc file: the file and its .gitignore entry go, the data stays."""
        self.repo.remove(dvc_file)

    def check_files(self) -> None:
        """dvc.yaml, dvc.lock and the .dvc files pass DVC's own schema, or one line names the file and the fix."""
        from dvc.utils.strictyaml import YAMLSyntaxError, YAMLValidationError

        try:
            self.index()  # building the index loads and validates every DVC file
        except (YAMLValidationError, YAMLSyntaxError) as error:
            name = os.path.relpath(error.path, self.root) if os.path.isabs(error.path) else error.path
            name = name.removeprefix("./")
            detail = str(error.exc).splitlines()[0] if getattr(error, "exc", None) else str(error)
            raise BadInputError(
                f"{name}: corrupted ({detail}); restore it with `git checkout HEAD -- {name}` (dvc.lock is "
                "regenerated by the run)."
            ) from None

    def index(self) -> Any:
        """DVC's index of the repository, built once and kept while no DVC file changed: each build parses every
        .dvc file, one per batch. Unless the lock is held, DVC drops its own after every locked operation."""
        if self._kept is not None and self._kept[0] == self._stamp(self._kept[1]):
            return self._kept[1]
        if self._kept is not None:
            self.repo._reset()  # a DVC file changed (private API, pinned by tests/code/test_dvc_private_api.py)
        index = self.repo.index
        self._kept = (self._stamp(index), index)
        return index

    def _stamp(self, index: Any) -> tuple[object, ...]:
        """What the files `index` was read from look like now: each stage file, its lock file and their folders
        (a new .dvc file changes its folder), by stat, so a changed, added or removed one is noticed."""
        paths = {str(self.root)}
        for stage in index.stages:
            paths.update((stage.path, os.path.splitext(stage.path)[0] + ".lock", os.path.dirname(stage.path)))
        stamp: list[tuple[object, ...]] = []
        for path in sorted(paths):
            try:
                found = os.stat(path)
                stamp.append((path, found.st_mtime_ns, found.st_size, found.st_ino))
            except FileNotFoundError:
                stamp.append((path, None))
        return tuple(stamp)

    @property
    def remote_config(self) -> dict[str, Any]:
        return dict(self.repo.config["remote"][self.remote])

    def _odb(self, remote: str | None = None) -> HashFileDB:
        odb: HashFileDB = self.repo.cloud.get_remote_odb(remote or self.remote)
        return odb

    def require_remote(self, name: str) -> None:
        if name not in self.repo.config["remote"]:
            known = ", ".join(self.repo.config["remote"]) or "none"
            raise BadInputError(f"DVC remote `{name}` is not configured (known: {known}); see .dvc/config.")

    # --- what the repository says must be stored -------------------------------------------------
    def tracked_outputs(self) -> list[tuple[str, str]]:
        """(path, oid) of every cached output named by dvc.lock and the .dvc files."""
        found = []
        for out in self.index().outs:
            if out.use_cache and out.hash_info and out.hash_info.value:
                found.append((str(out.fs_path and os.path.relpath(out.fs_path, self.root)), out.hash_info.value))
        return sorted(found)

    def _manifest(self, oid: str) -> list[dict[str, Any]] | None:
        """A directory's member list, from the local cache or else the remote; None if neither has it."""
        local = self.cache_path(oid)
        members: list[dict[str, Any]]  # DVC's .dir format: [{"md5": ..., "relpath": ...}, ...]
        if os.path.isfile(local):
            members = json.loads(Path(local).read_text())
            return members
        odb = self._odb()
        path = odb.oid_to_path(oid)
        if not odb.fs.exists(path):
            return None
        members = json.loads(odb.fs.cat_file(path))
        return members

    def expand(self, outputs: list[tuple[str, str]]) -> list[StoredObject]:
        """Outputs with each directory's members listed after it (from the cache, else the remote)."""
        wanted: list[StoredObject] = []
        for path, oid in outputs:
            wanted.append(StoredObject(oid, path))
            if oid.endswith(".dir"):
                members = self._manifest(oid)
                if members is None:
                    continue  # the manifest itself is missing: reported through `wanted` above
                wanted.extend(StoredObject(item["md5"], f"{path}/{item['relpath']}") for item in members)
        return wanted

    def missing_in_remote(
        self, outputs: list[tuple[str, str]] | None = None, remote: str | None = None
    ) -> list[StoredObject]:
        """Object by object, every tracked file and directory member that the remote does not have.

        `dvc status -c` and `dvc push` trust a directory's .dir manifest; this checks each member.
        """
        wanted = self.expand(self.tracked_outputs() if outputs is None else outputs)
        return self.absent_from(wanted, remote or self.remote)

    def absent_from(self, wanted: list[StoredObject], remote: str) -> list[StoredObject]:
        odb = self._odb(remote)
        try:
            present = odb.fs.exists([odb.oid_to_path(item.oid) for item in wanted]) if wanted else []
        except remote_errors() as error:
            raise RetrainError(f"could not check remote `{remote}`: {error}; re-run when it is reachable.") from None
        return [item for item, ok in zip(wanted, present, strict=True) if not ok]

    def cache_path(self, oid: str) -> str:
        path: str = self.repo.cache.local.oid_to_path(oid)
        return path

    def unavailable(self, outputs: dict[str, str]) -> list[StoredObject]:
        """Objects of `outputs` that are neither in the local cache nor in the remote."""
        listed = sorted(outputs.items())
        not_local = [(path, oid) for path, oid in listed if not os.path.isfile(self.cache_path(oid))]
        if not not_local:
            return []
        remote_missing = {item.oid for item in self.missing_in_remote(not_local)}
        return [
            item
            for item in self.expand(not_local)
            if item.oid in remote_missing and not os.path.isfile(self.cache_path(item.oid))
        ]

    def fetch_objects(self, outputs: dict[str, str]) -> None:
        """Download into the local cache every object of `outputs` that it lacks."""
        odb = self._odb()
        for item in self.expand(sorted(outputs.items())):
            local = self.cache_path(item.oid)
            if not os.path.isfile(local):
                os.makedirs(os.path.dirname(local), exist_ok=True)
                odb.fs.get_file(odb.oid_to_path(item.oid), local)

    # --- operations ---------------------------------------------------------------------------------
    def reproduce(self, force: bool, allow_missing: bool) -> ReproOutcome:
        """`dvc repro --pull` (with `--allow-missing` when the remote holds everything the lock names)."""
        from dvc.exceptions import ReproductionError

        self.index()  # DVC's repro reads the repository's index: make it the current one
        with _dvc_messages() as collected, _stage_environment():
            try:
                self.repo.reproduce(pull=True, allow_missing=allow_missing, force=force, run_cache=not force)
            except ReproductionError as error:
                raise _stage_failure(error) from None
        return _classify(collected.messages)

    def missing_uncached_outputs(self) -> list[str]:
        """Stage outputs kept in git (the metrics) that are missing from the work tree: `--allow-missing` skips a
        stage whose outputs are missing, so they must be made again, never assumed present."""
        return [path for path, _ in self.uncached_outputs() if not (self.root / path).exists()]

    def pull(self, targets: list[str]) -> None:
        from dvc.exceptions import DvcException

        try:
            self.repo.pull(targets=targets, remote=self.remote)
        except DvcException as error:
            raise RetrainError(
                f"could not pull {', '.join(targets[:3])} from remote `{self.remote}` ({str(error).splitlines()[0]}); "
                "re-run when the remote is reachable, or push the data there from a machine that has it."
            ) from None

    def commit(self, target: str) -> None:
        """Record a workspace output (already matching its .dvc file) into the local cache."""
        self.repo.commit(target, force=True)

    def uncached_outputs(self) -> list[tuple[str, str]]:
        """(path, oid) of every stage output kept in git rather than in DVC's cache (`cache: false`: the metrics)."""
        found = []
        for out in self.index().outs:
            if not out.use_cache and out.stage.cmd and out.hash_info and out.hash_info.value:
                found.append((os.path.relpath(out.fs_path, self.root), out.hash_info.value))
        return sorted(found)

    def push(self, released: Collection[str] = ()) -> int:
        """`dvc push` of every DVC file but the `released` .dvc files (in the remote: the verify step checks)."""
        files = {os.path.relpath(stage.path, self.root) for stage in self.index().stages}  # push reads the index
        targets = sorted(files - set(released)) if released else None
        try:  # the run-cache: runcache.push_new
            pushed: int = self.repo.push(targets=targets, remote=self.remote) if targets != [] else 0
            # A run-cache entry names its stage's uncached outputs too (DVC caches them when it saves the entry), but
            # a pushed entry brings only itself: without them a fresh clone re-runs the stage instead of restoring it.
            wanted = [item for item in self.uncached_outputs() if os.path.isfile(self.cache_path(item[1]))]
            return pushed + len(self.upload_from_cache(self.missing_in_remote(wanted) if wanted else []))
        except RetrainError:
            raise
        except remote_errors() as error:
            raise RetrainError(
                f"dvc push to remote `{self.remote}` failed: {error}; nothing was committed or tagged. "
                f"{push_advice(self.remote_config)}"
            ) from None

    def stage_outputs(self) -> list[tuple[str, str]]:
        """(path, oid) of every output a stage computes (cached or kept in git), not what a .dvc file tracks."""
        found = []
        for out in self.index().outs:
            if out.stage.cmd and out.hash_info and out.hash_info.value:
                found.append((os.path.relpath(out.fs_path, self.root), out.hash_info.value))
        return sorted(found)

    def checkout(self, targets: list[str] | None = None) -> None:
        self.repo.checkout(targets=targets, force=True)

    def workspace_hash(self, path: str) -> str:
        """The md5 DVC would record for a workspace file or directory, computed without touching any .dvc file."""
        from dvc_data.hashfile.build import build

        cache = self.repo.cache.local
        _, _, obj = build(cache, str(self.root / path), cache.fs, "md5", dry_run=True, ignore=self.repo.dvcignore)
        return _oid(obj.hash_info, path)

    def store(self, path: Path) -> tuple[str, int]:
        """Put a file (anywhere on this machine) into the local cache as `dvc add` would; its md5 and size."""
        from dvc_data.hashfile.build import build

        cache = self.repo.cache.local
        _, _, obj = build(cache, str(path), cache.fs, "md5", dry_run=True)
        oid = _oid(obj.hash_info, str(path))
        cache.add(str(path), cache.fs, oid)
        return oid, path.stat().st_size

    def upload_from_cache(self, missing: list[StoredObject], remote: str | None = None) -> list[StoredObject]:
        """Put back objects the remote lost, from the local cache (dvc push would skip them: it trusts .dir)."""
        odb = self._odb(remote)
        uploaded = []
        for item in missing:
            local = self.repo.cache.local.oid_to_path(item.oid)
            if os.path.isfile(local):
                odb.fs.put_file(local, odb.oid_to_path(item.oid))
                uploaded.append(item)
        return uploaded


def _oid(hash_info: HashInfo, path: str) -> str:
    """The md5 DVC computed for `path` (DVC's type allows none: it never happens after a build)."""
    if hash_info.value is None:
        raise RetrainError(f"DVC computed no hash for {path}")
    return hash_info.value


def _stage_failure(error: Exception) -> RetrainError:
    """Map a failed stage to an error: exit 2 when the stage rejected its input, 1 otherwise; each of DVC's
    nested messages said once."""
    said: list[str] = []
    cause: BaseException | None = error
    while cause is not None:
        for part in re.split(r"(?<=')\s+(?=failed to)", str(cause)):
            if part and not any(part in earlier for earlier in said):
                said.append(part)
        cause = cause.__cause__ or cause.__context__
    text = "; ".join(said)
    message_file = os.environ.get(STAGE_ERROR_FILE_ENV)
    stage_message = Path(message_file).read_text().strip() if message_file and Path(message_file).is_file() else ""
    match = STAGE_EXIT.search(text)
    if match and int(match.group(1)) == BadInputError.exit_code:
        return BadInputError(stage_message or text)
    return RetrainError(f"{stage_message or text}")
