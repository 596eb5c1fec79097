"""Metrics files at revisions, wherever DVC allows them: in git (a `cache: false` output), or in DVC's cache or
remote (a cached `metrics:` output, or a file inside a cached output folder such as dvclive's `eval/`).

Git is asked first, for every (revision, file) at once (one `git cat-file --batch`); only what git lacks goes to DVC,
in one granular fetch of just those files and one `metrics show` over every revision that needs it, never one call
per release. A project whose metrics are in git never opens DVC here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import chdir, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrain import dvcfiles, gitops
from retrain.commands import REMOTE_ENV
from retrain.layout import LOCK
from retrain.metrics import flatten

if TYPE_CHECKING:
    from dvc.repo import Repo as Repo  # what callers pass through: the DVC repository a run holds open

Wanted = tuple[str, str]  # (revision, file path relative to the root)


@dataclass(frozen=True)
class Unreadable:
    """Why neither git nor DVC could read a file at a revision (one line, for the one line a person reads)."""

    reason: str


Found = dict[str, Any] | Unreadable


def read(root: Path, wanted: list[Wanted], repo: Repo | None = None) -> dict[Wanted, Found]:
    """(revision, path) -> the JSON/YAML mapping there, or why it could not be read. `repo`: the DVC repository the
    caller holds open (a run's), else one is opened only if git lacks something."""
    wanted = list(dict.fromkeys(wanted))
    texts = gitops.files_at(root, wanted)
    found: dict[Wanted, Found] = {}
    for key, text in texts.items():
        if text is not None:
            found[key] = _mapping(text)
    rest = [key for key in wanted if key not in found]
    locks = gitops.files_at(root, [(rev, LOCK) for rev in dict.fromkeys(rev for rev, _ in rest)])
    in_dvc = [(rev, path) for rev, path in rest if _a_dvc_output(path, locks.get((rev, LOCK)))]
    for rev, path in rest:
        found[(rev, path)] = Unreadable(f"{path} is neither in git nor in a DVC output at {rev}")
    if in_dvc:
        with _opened(root, repo) as dvc_repo:
            found.update(_through_dvc(dvc_repo, in_dvc))
    return found


def _a_dvc_output(path: str, lock: str | None) -> bool:
    """The revision's dvc.lock names `path` or a folder holding it: DVC may have it (a file in no output never is)."""
    return any(path == out or path.startswith(f"{out}/") for out in dvcfiles.lock_outputs(lock))


@dataclass(frozen=True)
class Comparable:
    """The primary metric of the release the gate compares with."""

    value: float | None = None
    other: str | None = None  # that release, when the latest's metrics could not be read
    unread: str | None = None  # the releases whose metrics could not be read, and why


def comparable(
    root: Path, latest: str, older: Callable[[], list[str]], path: str, metric: str, repo: Repo | None
) -> Comparable:
    """The newest release (`latest`, then `older()`, newest first) whose metrics file holds `metric`: the latest alone
    is read first, the others (in one read) only when it cannot be."""
    said: list[str] = []
    for batch in ([latest], None):
        tags = batch if batch is not None else older()
        texts = read(root, [(tag, path) for tag in tags], repo) if tags else {}
        for tag in tags:
            content = texts[(tag, path)]
            numbers = flatten(content) if isinstance(content, dict) else {}
            if metric in numbers:
                return Comparable(numbers[metric], tag if tag != latest else None, "; ".join(said) or None)
            reason = content.reason if isinstance(content, Unreadable) else f"{path} there has no `{metric}`"
            said.append(f"{tag} ({reason})")
    return Comparable(None, None, "; ".join(said))


def mapping(found: Found | None) -> dict[str, Any]:
    """The content read, or {} where there was none to read."""
    return found if isinstance(found, dict) else {}


@contextmanager
def _opened(root: Path, repo: Repo | None) -> Iterator[Repo]:
    if repo is not None:
        yield repo
        return
    from dvc.repo import Repo as DvcRepo  # DVC's import is slow: only when git lacks a file

    opened = DvcRepo(str(root), remote=os.environ.get(REMOTE_ENV) or None)
    try:
        yield opened
    finally:
        opened.close()


def _through_dvc(repo: Repo, wanted: list[Wanted]) -> dict[Wanted, Found]:
    """One granular fetch of only these files (a folder's manifest and the file, not the folder), then one
    `metrics show` over all their revisions: DVC reads each from its cache, which the fetch filled from the remote."""
    from retrain.dvcops import remote_errors

    # DVC is given commits: its revision parser takes `name@v1.0.0` (a GTO tag) for a reflog expression
    commits = dict(zip(*_commits(repo.root_dir, list(dict.fromkeys(rev for rev, _ in wanted))), strict=True))
    revs = list(dict.fromkeys(commits.values()))
    paths = list(dict.fromkeys(path for _, path in wanted))
    targets = [os.path.join(repo.root_dir, path) for path in paths]
    fetch_error = ""
    try:
        with chdir(repo.root_dir):  # at another revision, DVC finds a file inside an output by its relative path only
            repo.fetch(targets=paths, revs=revs, workspace=False)
    except remote_errors() as error:  # unreachable: whatever the cache holds is still read below
        fetch_error = f"; fetching from the DVC remote failed: {_line(error)}"
    shown = repo.metrics.show(targets=targets, revs=revs, hide_workspace=True)
    found: dict[Wanted, Found] = {}
    for rev, path in wanted:
        result = shown.get(commits[rev], {})
        files = result.get("data") or {}
        entry = files.get(path) or files.get(os.path.normpath(path)) or {}
        if "data" in entry and isinstance(entry["data"], dict):
            found[(rev, path)] = entry["data"]
            continue
        failed = entry.get("error") or result.get("error")
        reason = _line(failed) if failed else "no such file"
        found[(rev, path)] = Unreadable(f"not in git, and DVC could not read it ({reason}{fetch_error})")
    return found


def _commits(root: str, revs: list[str]) -> tuple[list[str], list[str]]:
    """(revisions, the commit each names), in one git process; a revision naming none stays as it is."""
    said = gitops.git(Path(root), "rev-parse", *(f"{rev}^{{commit}}" for rev in revs), check=False).splitlines()
    return revs, said if len(said) == len(revs) else revs


def _line(error: BaseException) -> str:
    said = str(error).splitlines()
    return f"{type(error).__name__}: {said[0]}" if said else type(error).__name__


def _mapping(text: str) -> Found:
    try:
        found = json.loads(text)
    except ValueError:
        import yaml  # DVC reads metrics as JSON, YAML or TOML: YAML covers JSON's other relatives here

        try:
            found = yaml.safe_load(text)
        except yaml.YAMLError as error:
            return Unreadable(f"not JSON or YAML ({_line(error)})")
    return found if isinstance(found, dict) else Unreadable("not a mapping of names to numbers")
