"""Git edge: each operation the release engine needs, as one named function over the git CLI.

Past 400 lines on purpose: it is the engine's one door to git, a list of short functions; split by topic, a reader
would have to guess which file holds a git call.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from retrain import githooks
from retrain.errors import (
    BadInputError,
    CommandError,
    OriginUnreachableError,
    PushForbiddenError,
    PushRejectedError,
)
from retrain.shell import call, run

if TYPE_CHECKING:
    from git.cmd import Git as GitCommand

# What GitHub says when a ruleset or branch protection refuses a push ("Troubleshooting rules"; classic protection).
RULE_VIOLATIONS = ("GH013", "GH006", "protected branch hook declined", "Repository rule violations")


def git(root: Path, *args: str, check: bool = True) -> str:
    return run(["git", *args], cwd=root, check=check).strip()


def toplevel(path: Path) -> Path:
    try:
        return Path(git(path, "rev-parse", "--show-toplevel"))
    except CommandError:
        raise BadInputError(
            f"{path}: not inside a git work tree; run retrain from a clone of the repository."
        ) from None


def current_branch(root: Path) -> str:
    branch = git(root, "branch", "--show-current")
    if not branch:
        raise BadInputError(
            "HEAD is detached: check out a branch first (for example `git switch develop`); "
            "releases are made on a branch."
        )
    return branch


def index_lock(root: Path) -> Path | None:
    """The index's lock file when it exists: a git command is running here, or one was killed mid-write."""
    path = Path(git(root, "rev-parse", "--git-path", "index.lock"))
    path = path if path.is_absolute() else root / path
    return path if path.exists() else None


def dirty_tracked_files(root: Path) -> list[str]:
    """Tracked files with uncommitted changes (staged or not, deletions included); untracked files do not count."""
    return list(_status(root))


def deleted_tracked_files(root: Path) -> list[str]:
    """Tracked files deleted from the work tree (or the index) and not committed so."""
    return [name for name, code in _status(root).items() if "D" in code]


def _status(root: Path) -> dict[str, str]:
    # Not `git()`: it strips the output, and with it the leading space of the first " M path" line.
    lines = run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root).splitlines()
    return {line[3:]: line[:2] for line in lines if line.strip()}


def changed_or_new(root: Path, paths: list[str]) -> list[str]:
    """Which of `paths` differ from HEAD: changed, staged, or untracked (not ignored); one git status."""
    if not paths:
        return []
    lines = run(["git", "status", "--porcelain", "--untracked-files=all", "--", *paths], cwd=root).splitlines()
    return sorted(line[3:] for line in lines if line.strip() and "D" not in line[:2])


def untracked_files(root: Path, folder: str) -> list[str]:
    """Files under `folder` that git neither tracks nor ignores."""
    return git(root, "ls-files", "--others", "--exclude-standard", "--", folder).splitlines()


def conflict_markers(root: Path, paths: list[str]) -> str | None:
    """The first of `paths` that still holds a merge-conflict marker, if any."""
    for name in paths:
        path = root / name
        if path.is_file() and any(
            line.startswith(("<<<<<<< ", ">>>>>>> ")) or line == "=======" for line in path.read_text().splitlines()
        ):
            return name
    return None


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD")


def resolve(root: Path, rev: str) -> str | None:
    """The commit a revision names, or None when it names none."""
    return git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False) or None


def parent(root: Path, rev: str = "HEAD") -> str | None:
    return resolve(root, f"{rev}~1")


def message(root: Path, rev: str = "HEAD") -> str:
    """A commit's whole message (subject, body and trailers)."""
    return git(root, "log", "-1", "--format=%B", rev)


def merge_base(root: Path, one: str, other: str) -> str | None:
    return git(root, "merge-base", one, other, check=False) or None


def checkout_paths(root: Path, rev: str, paths: list[str]) -> None:
    """Put `paths` as they are at `rev` into the work tree and index (no hook: the caller handles the data)."""
    git(root, "-c", "core.hooksPath=/dev/null", "checkout", "--quiet", rev, "--", *paths)


def checkout_detached(root: Path, rev: str) -> None:
    """Check out `rev` with HEAD detached (no hook: the caller checks the data out itself)."""
    git(root, "-c", "core.hooksPath=/dev/null", "checkout", "--quiet", "--detach", rev)


def show_file(root: Path, rev: str, path: str) -> str | None:
    """A file's text at a revision, or None when it does not exist there."""
    try:
        return run(["git", "show", f"{rev}:{path}"], cwd=root)
    except CommandError:
        return None


def json_at(root: Path, rev: str, path: str) -> dict[str, Any]:
    """A JSON file's content at a revision, or {} when it does not exist there."""
    text = show_file(root, rev, path)
    return json.loads(text) if text else {}


def yaml_at(root: Path, rev: str, path: str | Path) -> dict[str, Any]:
    """A YAML file's content at a revision, or {} when it does not exist there (or is empty)."""
    return yaml.safe_load(show_file(root, rev, str(path)) or "{}") or {}


def ignore_rule(root: Path, paths: list[str]) -> tuple[str, str] | None:
    """(path, `source:line pattern`) for the first of `paths` git would refuse to add because a rule ignores it; a
    tracked file is never ignored, and a negated rule (`!name`) keeps a file."""
    asked = "".join(f"{path}\0" for path in paths)
    found = call(["git", "check-ignore", "--verbose", "-z", "--stdin"], cwd=root, input_text=asked).stdout.split("\0")
    for source, line, pattern, path in zip(found[0::4], found[1::4], found[2::4], found[3::4], strict=False):
        if not pattern.startswith("!"):
            return path, f"{source}:{line} `{pattern}`"
    return None


def commit(root: Path, paths: list[str], message: str) -> str:
    git(root, "add", "--", *paths)
    git(root, "commit", "--quiet", "-m", message, "--", *paths)
    return head(root)


def commit_folder(root: Path, folder: str, message: str) -> str:
    """Commit everything that changed under `folder` (additions and deletions)."""
    git(root, "add", "--all", "--", folder)
    git(root, "commit", "--quiet", "-m", message)
    return head(root)


def commit_month(root: Path, rev: str) -> str:
    """`YYYY-MM` of a commit's committer date, in UTC."""
    return git(root, "log", "-1", "--format=%cd", "--date=format-local:%Y-%m", rev, "--")


def changed_files(root: Path, base: str, rev: str = "HEAD") -> list[str]:
    return git(root, "diff", "--name-only", f"{base}..{rev}").splitlines()


def changed_since(root: Path, base: str) -> list[str]:
    """Tracked files whose work-tree content differs from `base` (commits since, and uncommitted changes)."""
    return git(root, "diff", "--name-only", base).splitlines()


HISTORY_LIMIT = 1000  # commits read when there is no earlier release to stop at


def commits_between(root: Path, since: str | None, until: str) -> list[str]:
    """Commits reachable from `until` and not from `since` (all of `until`'s history, bounded, when None)."""
    span = [f"{since}..{until}"] if since else [f"--max-count={HISTORY_LIMIT}", until]
    return git(root, "rev-list", *span).splitlines()


def subjects_between(root: Path, since: str | None, until: str, first_parent: bool = False) -> list[str]:
    span = [f"{since}..{until}"] if since else [f"--max-count={HISTORY_LIMIT}", until]
    return git(root, "log", "--format=%s", *(["--first-parent"] if first_parent else []), *span).splitlines()


def tags(root: Path, pattern: str, merged_into: str | None = None, containing: str | None = None) -> dict[str, str]:
    """Local tags matching a glob -> the commit each points to; with `merged_into`, only the tags on that revision's
    history; with `containing`, only those whose commit has that revision in its history (one `for-each-ref` call
    either way, however many tags)."""
    merged = [f"--merged={merged_into}"] if merged_into else []
    merged += [f"--contains={containing}"] if containing else []
    out = git(
        root,
        "for-each-ref",
        *merged,
        "--format=%(refname:short) %(*objectname) %(objectname)",
        f"refs/tags/{pattern}",
    )
    result = {}
    for line in out.splitlines():
        name, *shas = line.split()
        result[name] = shas[0]  # peeled commit for annotated tags, else the object itself
    return result


@dataclass(frozen=True)
class TagRecord:
    """One tag as `for-each-ref` reads it: name, the commit it points to, and for an annotated tag its tagger and
    message (a lightweight tag has neither: its creator date is the commit's)."""

    name: str
    commit: str
    annotated: bool
    date: int  # seconds since the epoch: the tagger date, else the commit date
    tagger: str | None
    message: str | None


_FIELD, _RECORD = "\x1f", "\x00"  # no tag name or header field holds either; the message comes last


def tag_records(root: Path, *patterns: str) -> list[TagRecord]:
    """Every local tag matching the globs, with its message, read by one `for-each-ref` (however many tags)."""
    fields = "%(refname:short)%1f%(objecttype)%1f%(*objectname)%1f%(objectname)%1f%(creatordate:unix)%1f"
    fields += "%(taggername)%1f%(contents)%00"
    out = run(["git", "for-each-ref", f"--format={fields}", *(f"refs/tags/{p}" for p in patterns)], cwd=root)
    found = []
    for record in out.split(_RECORD):
        parts = record.lstrip("\n").split(_FIELD, 6)
        if len(parts) < 7:
            continue
        name, kind, peeled, sha, date, tagger, contents = parts
        annotated = kind == "tag"
        message = contents if annotated else None  # a lightweight tag's contents are its commit's message
        found.append(TagRecord(name, peeled or sha, annotated, int(date or 0), tagger or None, message))
    return found


def files_at(root: Path, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """(revision, path) -> the file's text there, or None where it does not exist: one `git cat-file --batch` for
    them all (the metrics of a thousand releases in one process, not a thousand)."""
    found = _cat_file(root, [f"{rev}:{path}" for rev, path in wanted])
    return {
        key: None if blob is None else blob.decode(errors="replace") for key, blob in zip(wanted, found, strict=True)
    }


def _cat_file(root: Path, names: list[str]) -> list[bytes | None]:
    """Each object named (`rev:path` or an object id): its bytes when it is a blob, None when it is missing or not a
    file. Read through GitPython's persistent `git cat-file --batch`: one process for every read of the run."""
    found: list[bytes | None] = []
    reader = object_reader(str(root))
    for name in names:
        try:
            _, kind, _, data = reader.get_object_data(name)
        except ValueError:  # missing or ambiguous: git answered with no object
            found.append(None)
            continue
        # a folder is no file; GitPython annotates the type as str but hands git's bytes through
        found.append(data if kind in ("blob", b"blob") else None)
    return found


@functools.cache
def object_reader(root: str) -> GitCommand:
    from git.cmd import Git  # GitPython, imported when first read: most commands read no object

    return Git(root)


@dataclass(frozen=True)
class CommitRecord:
    sha: str
    parents: tuple[str, ...]
    subject: str
    body: str


def commit_records(root: Path, revs: list[str]) -> list[CommitRecord]:
    """Every commit reachable from `revs`, with parents, subject and body: one `git log` (revisions on stdin)."""
    if not revs:
        return []
    out = run(
        ["git", "log", "--stdin", "--format=%H%x1f%P%x1f%s%x1f%b%x00"], cwd=root, input_text="\n".join(revs) + "\n"
    )
    found = []
    for record in out.split(_RECORD):
        parts = record.lstrip("\n").split(_FIELD, 3)
        if len(parts) == 4:
            sha, parents, subject, body = parts
            found.append(CommitRecord(sha, tuple(parents.split()), subject, body))
    return found


def create_tag(root: Path, tag: str, message: str, target: str = "HEAD", date: int | None = None) -> None:
    """An annotated tag on `target`; `date` (seconds since the epoch, UTC) is the tagger date, else now."""
    dated = {"GIT_COMMITTER_DATE": f"{date} +0000"} if date is not None else None
    # verbatim: git's default cleanup drops every line starting with `#` from a note that is documented as kept whole.
    run(
        ["git", "tag", "--annotate", "--cleanup=verbatim", tag, target, "--file=-"],
        cwd=root,
        input_text=message,
        env=dated,
    )


def delete_tag(root: Path, tag: str) -> None:
    git(root, "tag", "--delete", tag)


def tag_times(root: Path, pattern: str) -> dict[str, int]:
    """Local annotated tags matching a glob -> their tagger date, in seconds since the epoch."""
    out = git(root, "for-each-ref", "--format=%(refname:short) %(taggerdate:unix)", f"refs/tags/{pattern}")
    found = {}
    for line in out.splitlines():
        name, _, when = line.rpartition(" ")
        if when.isdigit():
            found[name] = int(when)
    return found


def user_name(root: Path) -> str | None:
    """Who this clone commits and tags as (`git config user.name`), if set."""
    return git(root, "config", "user.name", check=False) or None


def has_remote(root: Path, name: str = "origin") -> bool:
    return name in git(root, "remote").split()


def remote_url(root: Path, name: str = "origin") -> str | None:
    """A remote's URL as configured (`git remote get-url` would apply `url.*.insteadOf` rewrites), if it has one."""
    return git(root, "config", "--get", f"remote.{name}.url", check=False) or None


def _reason(text: str) -> str:
    """git's complaint as one line: its first fatal/error line, else its last line (hints dropped)."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("hint:")]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line.split(":", 1)[1].strip()
    return lines[-1] if lines else "no answer"


def _raise_for_push(output: str, errors: str, remote: str) -> None:
    """Classify a failed push. With --porcelain the per-ref verdict (`!  ref  [rejected] (fetch first)`) is on
    stdout; whatever origin's hooks said is on stderr as `remote: ...` lines."""
    verdicts = [line.split("\t")[-1].strip() for line in output.splitlines() if line.startswith("!")]
    said = [line.strip() for line in errors.splitlines() if line.startswith("remote:") and line[7:].strip()]
    if any(mark in errors for mark in RULE_VIOLATIONS):
        quoted = " ".join(line[7:].strip() for line in said)[-300:] or _reason(errors)
        raise PushForbiddenError(
            f"{remote}'s rules refused the push ({quoted}). The branch is protected: push with an identity on its "
            'bypass list (in CI, the GitHub App: docs/ci.md, "Day one"). Nothing reached origin; the release '
            "commit and tag stay in this clone, and a re-run with that identity pushes them."
        ) from None
    if verdicts or any(word in errors for word in ("rejected", "non-fast-forward", "fetch first", "stale info")):
        reason = "; ".join(dict.fromkeys(verdicts)) or _reason(errors)
        if said:
            reason += f" ({' '.join(said)[-200:]})"
        raise PushRejectedError(f"{remote} rejected the push: {reason}") from None
    raise OriginUnreachableError(
        f"could not push to {remote} ({_reason(errors)}); check the network and your git credentials, then "
        "re-run: the run resumes where it stopped."
    ) from None


def push_atomic(root: Path, branch: str, tag: str | None, remote: str = "origin") -> None:
    """Push the branch and the tag in one all-or-nothing transaction; never forced."""
    refs = [f"HEAD:refs/heads/{branch}"] + ([f"refs/tags/{tag}"] if tag else [])
    result = call(["git", "push", "--atomic", "--porcelain", remote, *refs], root)
    if result.returncode != 0:
        _raise_for_push(result.stdout, result.stderr, remote)


def push_tags(root: Path, tags: list[str], remote: str = "origin") -> None:
    """Push new tags in one all-or-nothing transaction; never forced, so a tag origin already has is refused."""
    result = call(["git", "push", "--atomic", "--porcelain", remote, *(f"refs/tags/{tag}" for tag in tags)], root)
    if result.returncode != 0:
        _raise_for_push(result.stdout, result.stderr, remote)


def fetch(root: Path, remote: str = "origin") -> None:
    try:
        # No --prune-tags: it would delete every local tag origin lacks (a release not pushed yet, a user's own).
        git(root, "fetch", "--quiet", "--prune", "--tags", "--force", remote)
    except CommandError as error:
        raise OriginUnreachableError(
            f"could not fetch from {remote} ({_reason(error.stderr)}); check the network and your git "
            "credentials, then re-run."
        ) from None


def remote_tags(root: Path, pattern: str, remote: str = "origin") -> dict[str, str]:
    """Tags on the remote -> peeled commit."""
    try:
        out = git(root, "ls-remote", "--tags", remote, f"refs/tags/{pattern}")
    except CommandError as error:
        raise OriginUnreachableError(
            f"could not reach {remote} ({_reason(error.stderr)}); nothing was pushed. Check the network and "
            "your git credentials, then re-run: local releases not pushed yet are kept and pushed then."
        ) from None
    found: dict[str, str] = {}
    for line in out.splitlines():
        sha, ref = line.split("\t")
        name = ref.removeprefix("refs/tags/")
        if name.endswith("^{}"):
            found[name[:-3]] = sha
        else:
            found.setdefault(name, sha)
    return found


def is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    return _returncode(root, "merge-base", "--is-ancestor", ancestor, descendant) == 0


def _returncode(root: Path, *args: str) -> int:
    return call(["git", *args], root).returncode


def reset_hard(root: Path, rev: str) -> None:
    git(root, "reset", "--quiet", "--hard", rev)


def rebase(root: Path, upstream: str) -> bool:
    """Rebase the branch onto upstream; on conflict abort and return False."""
    if _returncode(root, "rebase", "--quiet", upstream) == 0:
        return True
    _returncode(root, "rebase", "--abort")
    return False


def configure(root: Path, dvc_executable: str) -> None:
    """Register DVC's merge driver for .dvc files and dvc.lock, and a post-checkout hook chained to any the clone
    already had (no pre-push hook)."""
    git(root, "config", "merge.dvc.name", "DVC merge driver")
    git(
        root,
        "config",
        "merge.dvc.driver",
        f"{dvc_executable} git-hook merge-driver --ancestor %O --our %A --their %B",
    )
    hooks = Path(git(root, "rev-parse", "--git-path", "hooks"))
    hooks = hooks if hooks.is_absolute() else root / hooks
    githooks.install_post_checkout(hooks, dvc_executable)


# --- commits built without the work tree (a branch that is not checked out) ------------------------------------
ZERO_SHA = "0" * 40


def tree_entries(root: Path, rev: str, folder: str) -> dict[str, str]:
    """path -> blob id of the files directly in `folder` at a revision (none when it has no such folder)."""
    out = git(root, "ls-tree", rev, f"{folder.rstrip('/')}/", check=False)
    found = {}
    for line in out.splitlines():
        meta, _, path = line.partition("\t")
        _, kind, blob = meta.split()
        if kind == "blob":
            found[path] = blob
    return found


def read_blobs(root: Path, blobs: list[str]) -> dict[str, str]:
    """blob id -> text, read by one `git cat-file --batch` (one process however many blobs)."""
    return {blob: (text or b"").decode() for blob, text in zip(blobs, _cat_file(root, blobs), strict=True)}


def commit_files(root: Path, base: str, parents: list[str], files: dict[str, str], message: str) -> str:
    """A commit whose tree is `base`'s plus `files` (path -> text), with `parents`; no branch moves, the work tree
    and the index are untouched (a temporary index is used)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="retrain-index-") as folder:
        env = {"GIT_INDEX_FILE": str(Path(folder) / "index")}
        run(["git", "read-tree", base], cwd=root, env=env)
        for path, text in sorted(files.items()):
            blob = run(["git", "hash-object", "-w", "--stdin"], cwd=root, input_text=text).strip()
            run(["git", "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"], cwd=root, env=env)
        tree = run(["git", "write-tree"], cwd=root, env=env).strip()
    args = ["git", "commit-tree", tree, *(item for sha in parents for item in ("-p", sha))]
    return run(args, cwd=root, input_text=message).strip()


def update_branch(root: Path, branch: str, new: str, old: str | None) -> None:
    """Move `branch` to `new` only if it is still at `old` (None: only if it does not exist yet)."""
    git(root, "update-ref", "-m", "retrain ingest", f"refs/heads/{branch}", new, old or ZERO_SHA)


def push_branch(root: Path, rev: str, branch: str, remote: str = "origin") -> None:
    """Push `rev` to the remote's `branch` (created if missing); never forced: a branch that moved is rejected."""
    result = call(["git", "push", "--porcelain", remote, f"{rev}:refs/heads/{branch}"], root)
    if result.returncode != 0:
        _raise_for_push(result.stdout, result.stderr, remote)


def fetch_branch(root: Path, branch: str, remote: str = "origin") -> str | None:
    """origin's `branch` as origin/<branch> (removed when origin has none); its commit, or None."""
    try:
        out = git(root, "ls-remote", "--heads", remote, f"refs/heads/{branch}")
    except CommandError as error:
        raise OriginUnreachableError(
            f"could not reach {remote} ({_reason(error.stderr)}); nothing was pushed. Check the network and your "
            "git credentials, then re-run."
        ) from None
    tracking = f"refs/remotes/{remote}/{branch}"
    if not out:
        git(root, "update-ref", "-d", tracking, check=False)
        return None
    git(root, "fetch", "--quiet", remote, f"+refs/heads/{branch}:{tracking}")
    return resolve(root, tracking)
