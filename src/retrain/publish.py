"""`retrain publish`: copy the model a stage holds to where serving reads it, with a small JSON model card, so that a
reader never sees a half-updated pair.

Under `<to>/<stage>/` (any fsspec URL: `s3://bucket/prefix`, a local folder; `gs://...` with gcsfs installed):

    <version>/model.joblib      the model, fetched with DVC from the remote and checked against its md5
    <version>/model-card.json   version, metrics, data hash, code commit, the model's md5 (written after the model)
    current.json                the pointer: which version folder serves, and the stage assignment (written last)

A version folder is written once and never changed; a deploy writes a new folder if needed, then replaces
current.json, one small object (a single PUT on S3; a rename on a local disk). A reader that reads current.json,
then the two files it names, always gets a model and the card that describes it. A rollback only flips the pointer
back to a folder already there.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from retrain import decisions, dvcfiles, dvcmetrics, gitops, layout, metrics, project, promotion, registry
from retrain.errors import BadInputError, RetrainError
from retrain.registry import Holding

POINTER = "current.json"
CARD = "model-card.json"


def publish(root: Path, stage: str, to: str, remote: str | None) -> str:
    """Publish what `stage` holds now (the registry decides, not the tag that started a deploy: a deploy that
    starts late publishes the latest assignment, never an older one)."""
    release, held = promotion.which(root, stage)
    promotion.check_trusted(root, release, held)
    _, model_path = project.artifact(root)
    oid = dvcfiles.lock_outputs(gitops.show_file(root, release, layout.LOCK)).get(model_path)
    if not oid:
        raise RetrainError(f"{release}: its dvc.lock names no {model_path}; nothing to publish.")
    card = model_card(root, release, held, model_path, oid)
    local_model = _fetch_model(root, release, model_path, oid, remote)
    target = Target(to, stage)
    name = PurePosixPath(model_path).name
    folder = held.version
    if target.read_json(f"{folder}/{CARD}").get("model", {}).get("md5") == oid:
        reused = True  # written whole by an earlier deploy: a version folder never changes
    else:
        target.put_file(local_model, f"{folder}/{name}")
        target.write_json(f"{folder}/{CARD}", card)
        reused = False
    assigned_at = registry.iso(held.since)
    pointer = {
        "stage": stage,
        "version": held.version,
        "release": release,
        "model": f"{folder}/{name}",
        "card": f"{folder}/{CARD}",
        "model_md5": oid,
        "assignment": {"tag": held.tag, "at": assigned_at},
        "published_at": registry.iso(datetime.now(UTC)),
    }
    live = target.read_json(POINTER)
    if decisions.pointer_is_newer(live.get("assignment", {}).get("at"), assigned_at):
        return (
            f"{target.url}{POINTER} already names a later assignment ({live.get('release')}, tag "
            f"{live['assignment'].get('tag')}): left as is; {release} was not made live."
        )
    target.write_json(POINTER, pointer, atomically=True)
    how = "folder already there, pointer flipped" if reused else "model and card uploaded, then the pointer"
    return f"published {release} for {stage} to {target.url}: {POINTER} -> {folder}/ ({how})"


def model_card(root: Path, release: str, held: Holding, model_path: str, oid: str) -> dict[str, Any]:
    """What a serving team needs to trust the model: the release, its metrics, data and code, and the file's md5."""
    lock = gitops.show_file(root, release, layout.LOCK)
    found = project.load(root)
    files = [found.metrics, *([found.data_stats] if found.data_stats else [])]
    read = dvcmetrics.read(root, [(release, path) for path in files])
    stats = dvcmetrics.mapping(read[(release, found.data_stats)]) if found.data_stats else {}
    numbers = metrics.flatten(dvcmetrics.mapping(read[(release, found.metrics)]))
    return {
        "release": release,
        "version": held.version,
        "code_commit": held.commit,
        "data_hash": dvcfiles.lock_dep_hash(lock, found.raw.path),
        "rows": stats.get("rows"),
        "batches": stats.get("batches"),
        "metrics": numbers,
        "model": {"path": model_path, "md5": oid},
    }


def _fetch_model(root: Path, release: str, model_path: str, oid: str, remote: str | None) -> Path:
    """The model's file in the local DVC cache, fetched from the remote if missing, its md5 checked."""
    from retrain.dvcops import Pipeline

    pipeline = Pipeline(root, remote)
    try:
        wanted = {model_path: oid}
        if pipeline.unavailable(wanted):
            raise RetrainError(
                f"cannot publish {release}: its {model_path} ({oid}) is neither in this machine's cache nor in "
                f"remote `{pipeline.remote}`. Push it from a machine that has it (`dvc push -r {pipeline.remote}`)."
            )
        pipeline.fetch_objects(wanted)
        path = Path(pipeline.cache_path(oid))
    finally:
        pipeline.close()
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != oid:
        raise RetrainError(f"{path}: content does not match md5 {oid} (a corrupted cache); delete it and re-run.")
    return path


class Target:
    """`<to>/<stage>/` on whatever filesystem fsspec finds for the URL; errors as one line naming the URL."""

    def __init__(self, to: str, stage: str) -> None:
        import fsspec

        self.url = f"{to.rstrip('/')}/{stage}/"
        try:
            self.fs, base = fsspec.core.url_to_fs(self.url)
        except (ImportError, ValueError) as error:
            raise BadInputError(f"--to {to}: not a location fsspec can write ({error}).") from None
        self.base = base.rstrip("/")
        self.local = "file" in self.fs.protocol

    def _path(self, name: str) -> str:
        return f"{self.base}/{name}"

    def read_json(self, name: str) -> dict[str, Any]:
        with self._errors("read"):
            if not self.fs.exists(self._path(name)):
                return {}
            content: dict[str, Any] = json.loads(self.fs.cat_file(self._path(name)))
            return content

    def put_file(self, source: Path, name: str) -> None:
        with self._errors("write"):
            self._parent(name)
            self.fs.put_file(str(source), self._path(name))

    def write_json(self, name: str, content: dict[str, Any], atomically: bool = False) -> None:
        data = (json.dumps(content, indent=2) + "\n").encode()
        with self._errors("write"):
            self._parent(name)
            if atomically and self.local:  # a rename replaces the file whole; S3 replaces an object whole anyway
                temporary = self._path(f".{name}.{uuid.uuid4().hex}")
                self.fs.pipe_file(temporary, data)
                self.fs.mv(temporary, self._path(name))
            else:
                self.fs.pipe_file(self._path(name), data)

    def _parent(self, name: str) -> None:
        if self.local:  # object stores have no folders; makedirs there could even create a bucket
            self.fs.makedirs(str(PurePosixPath(self._path(name)).parent), exist_ok=True)

    @contextmanager
    def _errors(self, verb: str) -> Iterator[None]:
        """A failure of the filesystem as one line naming the URL and what to check."""
        from retrain.dvcops import remote_errors

        try:
            yield
        except RetrainError:
            raise
        except remote_errors() as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            fix = "check the URL, that the bucket exists, and the credentials (AWS_* for s3://)"
            user_side = isinstance(error, FileNotFoundError | PermissionError) or "Credentials" in type(error).__name__
            kind = BadInputError if user_side else RetrainError
            raise kind(f"could not {verb} {self.url} ({type(error).__name__}: {reason}); {fix}.") from None
