"""`assert_consistent`: after any fault, origin, the tags and the DVC remote still agree.

* every release tag on origin points at a commit on origin's develop (no tag without its pushed commit);
* every object that a release tag's dvc.lock and the batches' .dvc files name is in the remote, each member of a
  directory included (a directory's .dir manifest is not trusted: its members are checked one by one);
* every commit on origin's develop names only stage outputs that are in the remote, and each commit the
  engine made (`Retrain-Commit: release` trailer) has its raw data there too;
* no half-made tag: a local release tag that origin also has points at the same commit; one origin lacks
  (a release not pushed yet) has all its objects in the remote, so a re-run can finish it. With
  `settled=True` (after a successful `--push` run) local and origin release tags are the same set.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.helpers import S3_BUCKET, Project, sh, tags

TAGS = "model@v*"
BRANCH = "develop"
ENGINE_MARK = "Retrain-Commit: release"  # retrain.decisions.COMMIT_MARK, a git trailer


class LocalStore:
    """A local DVC remote directory (DVC 3 layout: files/md5/ab/cdef...)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, md5: str) -> Path:
        return self.root / "files" / "md5" / md5[:2] / md5[2:]

    def has(self, md5: str) -> bool:
        return self.path(md5).is_file()

    def read(self, md5: str) -> bytes | None:
        return self.path(md5).read_bytes() if self.has(md5) else None

    def __str__(self) -> str:
        return f"local remote {self.root}"


class BucketStore:
    """An s3remote bucket on moto, through the test's boto3 client (tests/conftest.py's S3 helper)."""

    def __init__(self, s3, bucket: str = S3_BUCKET) -> None:
        self.s3 = s3
        self.bucket = bucket
        self._keys: set[str] | None = None

    def has(self, md5: str) -> bool:
        if self._keys is None:
            pages = self.s3.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix="artifact-versioning/files/md5/"
            )
            self._keys = {item["Key"] for page in pages for item in page.get("Contents", [])}
        return self.s3.object_key(md5) in self._keys

    def read(self, md5: str) -> bytes | None:
        if not self.has(md5):
            return None
        return self.s3.client.get_object(Bucket=self.bucket, Key=self.s3.object_key(md5))["Body"].read()

    def __str__(self) -> str:
        return f"bucket {self.bucket} at {self.s3.endpoint}"


def store_of(storage_or_s3) -> LocalStore | BucketStore:
    """A local remote's directory, the S3 helper (the project's bucket), or a store already made."""
    if isinstance(storage_or_s3, LocalStore | BucketStore):
        return storage_or_s3
    return LocalStore(storage_or_s3) if isinstance(storage_or_s3, Path) else BucketStore(storage_or_s3)


def _origin(project: Project, *args: str, check: bool = True) -> str:
    return sh(["git", *args], project.origin, project.env, check=check).stdout.strip()


def _yaml_at(git, rev: str, path: str) -> dict:
    text = git("show", f"{rev}:{path}", check=False)
    return yaml.safe_load(text) or {} if text else {}


def stage_outputs(git, rev: str) -> dict[str, str]:
    """path -> md5 of every cached stage output in dvc.lock at `rev` (metrics are kept in git, not DVC)."""
    lock = _yaml_at(git, rev, "dvc.lock")
    found = {}
    for stage in (lock.get("stages") or {}).values():
        for out in stage.get("outs", []):
            if not out["path"].startswith("metrics/"):
                found[out["path"]] = out["md5"]
    return found


def raw_data(git, rev: str) -> dict[str, str]:
    names = [name for name in git("ls-tree", "--name-only", rev, "data/raw/", check=False).split()]
    names = [name for name in names if name.endswith(".dvc")]
    return {name.removesuffix(".dvc"): (_yaml_at(git, rev, name).get("outs") or [{}])[0].get("md5") for name in names}


def missing_objects(store, objects: dict[str, str]) -> list[str]:
    """Every object of `objects` absent from the store, directory members one by one."""
    missing = []
    for path, md5 in sorted(objects.items()):
        if not store.has(md5):
            missing.append(f"{path} ({md5})")
            continue
        if md5.endswith(".dir"):
            for member in json.loads(store.read(md5)):
                if not store.has(member["md5"]):
                    missing.append(f"{path}/{member['relpath']} ({member['md5']})")
    return missing


def assert_consistent(project: Project, storage_or_s3, *, settled: bool = False) -> None:
    """Fail with a list of every inconsistency between origin, the local tags and the DVC remote."""
    store = store_of(storage_or_s3)
    problems: list[str] = []

    def origin_git(*args: str, check: bool = True) -> str:
        return _origin(project, *args, check=check)

    def local_git(*args: str, check: bool = True) -> str:
        return project.sh("git", *args, check=check).stdout.strip()

    origin_tags = tags(project.origin, TAGS, project.env)
    tip = origin_git("rev-parse", BRANCH)
    for tag, sha in origin_tags.items():
        if not _is_ancestor(project, sha, tip):
            problems.append(f"origin tag {tag} points at {sha[:8]}, which is not on origin/{BRANCH}")
        for item in missing_objects(store, {**stage_outputs(origin_git, tag), **raw_data(origin_git, tag)}):
            problems.append(f"origin tag {tag}: {item} missing from {store}")

    log_format = "%H%x09%P%x09%(trailers:key=Retrain-Commit,separator=%x20)%x09%s"
    commits = origin_git("log", f"--format={log_format}", BRANCH).splitlines()
    for entry in commits:
        sha, parents, trailer, subject = entry.split("\t", 3)
        if not parents:
            continue  # the seed commit: its dvc.lock was made on the author's machine, before this remote
        objects = stage_outputs(origin_git, sha)
        if trailer.strip() == ENGINE_MARK:
            objects.update(raw_data(origin_git, sha))
        for item in missing_objects(store, objects):
            problems.append(f"origin/{BRANCH} commit {sha[:8]} ({subject[:50]}): {item} missing from {store}")

    local_tags = tags(project.root, TAGS, project.env)
    for tag, sha in local_tags.items():
        if tag in origin_tags and origin_tags[tag] != sha:
            problems.append(f"half-made tag: local {tag} -> {sha[:8]} but origin's -> {origin_tags[tag][:8]}")
        elif tag not in origin_tags:
            if settled:
                problems.append(f"local tag {tag} never reached origin after a successful --push run")
            for item in missing_objects(store, {**stage_outputs(local_git, tag), **raw_data(local_git, tag)}):
                problems.append(f"local-only tag {tag}: {item} missing from {store}: a re-run could not finish it")
    if settled:
        for tag in origin_tags:
            if tag not in local_tags:
                problems.append(f"origin tag {tag} is missing locally after a successful --push run")
    assert not problems, "inconsistent after the fault:\n  " + "\n  ".join(problems)


def _is_ancestor(project: Project, ancestor: str, descendant: str) -> bool:
    result = sh(["git", "merge-base", "--is-ancestor", ancestor, descendant], project.origin, project.env, check=False)
    return result.returncode == 0
