#!/usr/bin/env python3
"""A stand-in for the CML command line (iterative/cml 0.20.6), for the CI tests only.

The real CLI is the npm package ``@dvcorg/cml``; it cannot be installed here (the package
registry this environment reaches does not serve it, and it would talk to GitHub's API
anyway). The workflow files under ``.github/workflows`` and ``.travis.yml`` call ``cml``;
in the tests, ``tests/ci/bin/cml`` runs this module instead.

What it does, like CML:

* accepts only CML's documented commands and options (``cml comment create|update``,
  ``repo prepare``, ``pr create``, ``runner launch``, ``asset publish``, ``check create``,
  ``workflow rerun``, ``tensorboard connect`` and the legacy ``send-comment``, ``ci``,
  ``publish``, ``send-github-check``), with the global ``--log``, ``--driver``, ``--repo``,
  ``--driver-token``/``--token``; anything else exits non-zero with yargs-like messages;
* infers the driver (``--driver``, else the repository URL's host, else
  ``GITHUB_REPOSITORY``), the repository (``--repo``, else the ``origin`` remote's URL) and
  the token (``REPO_TOKEN``, ``repo_token``, ``GITHUB_TOKEN``, ``GITLAB_TOKEN``,
  ``BITBUCKET_TOKEN``), and fails without a token;
* picks the comment target as CML's ``parseCommentTarget`` does: ``--target`` ``pr``,
  ``commit``, ``pr/N``, ``commit/SHA``, ``issue/N`` or the automatic one (the pull request
  of a ``pull_request`` event, else the PR associated with the triggering commit, else a
  commit comment; ``--target=pr`` without a PR fails with ``PR for commit sha ... not
  found``). The triggering commit is the PR head on ``pull_request`` events, else
  ``GITHUB_SHA``, else ``git rev-parse HEAD``;
* appends the watermark ``![](https://cml.dev/watermark.png#SHA "CML watermark TITLE")``
  (``{workflow}``/``{run}`` replaced), and ``comment update`` edits the newest comment on
  the target that carries the same watermark title, creating one when none does;
* with ``--publish`` (the default) rewrites local images and links of the report to
  ``https://asset.cml.dev/...`` URLs (nothing is uploaded; missing files are left alone).

What is faked: GitHub. Comments are recorded, one JSON object per line, in the file named
by ``CI_STANDIN_CML_LOG``; the "list pull requests associated with a commit" API answers from the
forge model's pull requests (``CI_STANDIN_FORGE_STATE``, tests/ci/forge.py; open pull requests that
contain the commit first), else from the JSON object ``{"<sha>": <pr number>}`` in the file named by
``CI_STANDIN_CML_COMMIT_PRS`` (absent: no commit has a PR). ``runner launch`` checks its options
and the credentials it needs and records the request without starting anything. ``repo prepare``
sets the git identity and fetches as asked, without rewriting the remote URL. ``pr create`` follows CML's ``prCreate``
without paths: the target branch must exist on the remote; when the source branch exists
there, the open pull request from it to the target is returned, else one is opened (without
pushing); when it does not, it is pushed from the triggering commit first. Pull requests are
recorded in the same log (``kind: pr``), numbered from ``FIRST_PR`` (the tests declare their own
numbers below it); a test closes one by appending a ``{"kind": "pr", "action": "close"}`` record.
Committing paths (globs) and auto-merge are not emulated, nor are ``--watch`` and the other
commands (non-zero exit).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

VERSION = "0.20.6"
FIRST_PR = 100
WATERMARK_IMAGE = "https://cml.dev/watermark.png"

# option name -> (type, aliases). Types: bool, str, num, array, or a tuple of choices.
GLOBAL_OPTIONS = {
    "log": (("error", "warn", "info", "debug"), ()),
    "driver": (("github", "gitlab", "bitbucket"), ()),
    "repo": ("str", ()),
    "driver-token": ("str", ("token",)),
    "help": ("bool", ("h",)),
    "version": ("bool", ("v",)),
}
COMMENT_OPTIONS = {
    "target": ("str", ()),
    "pr": ("bool", ()),
    "commit-sha": ("str", ("head-sha",)),
    "watch": ("bool", ()),
    "trigger-file": ("str", ()),
    "publish": ("bool", ()),
    "publish-url": ("str", ()),
    "publish-native": ("bool", ("native",)),
    "update": ("bool", ()),
    "rm-watermark": ("bool", ()),
    "watermark-title": ("str", ()),
}
REPO_PREPARE_OPTIONS = {
    "fetch-depth": ("num", ()),
    "unshallow": ("bool", ()),
    "user-email": ("str", ()),
    "user-name": ("str", ()),
}
PR_CREATE_OPTIONS = {
    "md": ("bool", ()),
    "skip-ci": ("bool", ()),
    "merge": ("bool", ("auto-merge",)),
    "rebase": ("bool", ()),
    "squash": ("bool", ()),
    "branch": ("str", ()),
    "target-branch": ("str", ()),
    "title": ("str", ()),
    "body": ("str", ()),
    "message": ("str", ()),
    "remote": ("str", ()),
    "user-email": ("str", ()),
    "user-name": ("str", ()),
}
RUNNER_LAUNCH_OPTIONS = {
    "labels": ("str", ()),
    "idle-timeout": ("str", ()),
    "name": ("str", ()),
    "no-retry": ("bool", ()),
    "single": ("bool", ()),
    "reuse": ("bool", ()),
    "reuse-idle": ("bool", ()),
    "workdir": ("str", ()),
    "docker-volumes": ("array", ()),
    "cloud": (("aws", "azure", "gcp", "kubernetes"), ()),
    "cloud-region": ("str", ()),
    "cloud-type": ("str", ()),
    "cloud-permission-set": ("str", ()),
    "cloud-metadata": ("array", ()),
    "cloud-gpu": ("str", ()),
    "cloud-hdd-size": ("num", ()),
    "cloud-ssh-private": ("str", ()),
    "cloud-spot": ("bool", ()),
    "cloud-spot-price": ("num", ()),
    "cloud-startup-script": ("str", ()),
    "cloud-aws-security-group": ("str", ()),
    "cloud-aws-subnet": ("str", ()),
    "cloud-kubernetes-node-selector": ("str", ()),
    "cloud-image": ("str", ()),
    "tpi-version": ("str", ()),
    "cml-version": ("str", ()),
    "tf-resource": ("array", ()),
    "gcp-access-token": ("str", ()),
    "runner-path": ("str", ()),
    "destroy-delay": ("num", ()),
}
ASSET_PUBLISH_OPTIONS = {
    "md": ("bool", ()),
    "title": ("str", ("t",)),
    "native": ("bool", ()),
    "mime-type": ("str", ()),
    "url": ("str", ()),
    "rm-watermark": ("bool", ()),
}
CHECK_CREATE_OPTIONS = {
    "token": ("str", ()),
    "commit-sha": ("str", ("head-sha",)),
    "conclusion": (("success", "failure", "neutral", "cancelled", "skipped", "timed_out"), ()),
    "title": ("str", ()),
}
WORKFLOW_RERUN_OPTIONS = {"id": ("str", ())}
TENSORBOARD_CONNECT_OPTIONS = {
    "credentials": ("str", ("c",)),
    "logdir": ("str", ()),
    "name": ("str", ()),
    "description": ("str", ()),
    "md": ("bool", ()),
    "title": ("str", ("t",)),
    "rm-watermark": ("bool", ()),
}

# command words -> (canonical name, options, number of required positionals, extra positionals ok)
COMMANDS = {
    ("comment", "create"): ("comment create", COMMENT_OPTIONS, 1, False),
    ("comment", "update"): ("comment update", COMMENT_OPTIONS, 1, False),
    ("send-comment",): ("comment create", COMMENT_OPTIONS, 1, False),
    ("repo", "prepare"): ("repo prepare", REPO_PREPARE_OPTIONS, 0, False),
    ("ci",): ("repo prepare", REPO_PREPARE_OPTIONS, 0, False),
    ("pr", "create"): ("pr create", PR_CREATE_OPTIONS, 0, True),
    ("runner", "launch"): ("runner launch", RUNNER_LAUNCH_OPTIONS, 0, False),
    ("asset", "publish"): ("asset publish", ASSET_PUBLISH_OPTIONS, 1, False),
    ("publish",): ("asset publish", ASSET_PUBLISH_OPTIONS, 1, False),
    ("check", "create"): ("check create", CHECK_CREATE_OPTIONS, 1, False),
    ("send-github-check",): ("check create", CHECK_CREATE_OPTIONS, 1, False),
    ("workflow", "rerun"): ("workflow rerun", WORKFLOW_RERUN_OPTIONS, 0, False),
    ("tensorboard", "connect"): ("tensorboard connect", TENSORBOARD_CONNECT_OPTIONS, 0, False),
}
GROUPS = {"comment", "repo", "pr", "runner", "asset", "check", "workflow", "tensorboard"}


class UsageError(Exception):
    """A command line CML would refuse (yargs validation)."""


class CmlError(Exception):
    """A failure CML would report after parsing its arguments."""


def _lookup(table: dict) -> dict[str, str]:
    lookup = {}
    for key, (_, aliases) in table.items():
        lookup[key] = key
        for alias in aliases:
            lookup[alias] = key
    return lookup


def _scan(argv: list[str], table: dict) -> tuple[dict[str, object], list[str]]:
    """yargs-like scan: `--opt value`, `--opt=value`, `--flag`, `--no-flag`, `--flag=false`."""
    lookup = _lookup(table)
    options: dict[str, object] = {}
    positionals: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            positionals.extend(argv[i:])
            break
        if not arg.startswith("-") or arg == "-":
            positionals.append(arg)
            continue
        body = arg.lstrip("-")
        value: str | None = None
        if "=" in body:
            body, value = body.split("=", 1)
        negated = False
        key = lookup.get(body)
        if key is None and body.startswith("no-") and lookup.get(body[3:]):
            key, negated = lookup[body[3:]], True
            if table[key][0] != "bool":
                raise UsageError(f"Unknown argument: {body}")
        if key is None:
            raise UsageError(f"Unknown argument: {body}")
        kind = table[key][0]
        if kind == "bool":
            if value is None:
                options[key] = not negated
            elif value in ("true", "false"):
                options[key] = (value == "true") != negated
            else:
                raise UsageError(f"Invalid value for --{key}: {value!r}")
            continue
        if value is None:
            if i >= len(argv) or (argv[i].startswith("-") and argv[i] != "-"):
                raise UsageError(f"Not enough arguments following: {body}")
            value = argv[i]
            i += 1
        if isinstance(kind, tuple) and value not in kind:
            raise UsageError(
                f"Invalid values:\n  Argument: {key}, Given: {value!r}, Choices: " + ", ".join(repr(c) for c in kind)
            )
        if kind == "num":
            try:
                float(value)
            except ValueError:
                raise UsageError(f"Invalid number for --{key}: {value!r}") from None
        if kind == "array":
            options.setdefault(key, [])
            options[key].append(value)  # type: ignore[union-attr]
        else:
            options[key] = value
    return options, positionals


def parse_args(argv: list[str]) -> tuple[str, dict[str, object], list[str]]:
    """Split argv into (canonical command, options, positionals), refusing unknown ones."""
    # First find the command words, knowing which options of any command take a value.
    every: dict = dict(GLOBAL_OPTIONS)
    for _, table, _, _ in COMMANDS.values():
        for key, spec in table.items():
            every.setdefault(key, spec)
    _, words = _scan(argv, every)
    spec = None
    n_words = 0
    if len(words) >= 2 and tuple(words[:2]) in COMMANDS:
        spec, n_words = COMMANDS[tuple(words[:2])], 2
    elif words and (words[0],) in COMMANDS:
        spec, n_words = COMMANDS[(words[0],)], 1
    if spec is None:
        if not words:
            raise UsageError("Not enough non-option arguments: got 0, need at least 1")
        if words[0] in GROUPS:
            raise UsageError(f"Unknown command: {' '.join(words[:2])}")
        raise UsageError(f"Unknown argument: {words[0]}")
    name, command_options, n_positional, extra_ok = spec
    options, positionals = _scan(argv, {**GLOBAL_OPTIONS, **command_options})
    positionals = positionals[n_words:]
    if len(positionals) < n_positional:
        raise UsageError(f"Not enough non-option arguments: got {len(positionals)}, need at least {n_positional}")
    if len(positionals) > n_positional and not extra_ok:
        raise UsageError(f"Unknown argument: {positionals[n_positional]}")
    return name, options, positionals


# ----------------------------------------------------------------------------- context


def git(*args: str) -> str:
    out = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise CmlError(f"git {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout.strip()


def normalise_repo(repo: str) -> str:
    repo = repo.strip()
    if re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        repo = f"https://github.com/{repo}"
    url = urlparse(repo)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise CmlError(f"repo {repo!r} is not a repository URL")
    netloc = url.hostname + (f":{url.port}" if url.port else "")  # strip credentials
    path = url.path.rstrip("/")
    path = path.removesuffix(".git")
    return f"{url.scheme}://{netloc}{path}"


def infer_repo(options: dict[str, object]) -> str:
    if options.get("repo"):
        return normalise_repo(str(options["repo"]))
    try:
        remote = git("config", "--get", "remote.origin.url")
    except CmlError:
        raise CmlError("repo not found: no --repo and no origin remote") from None
    return normalise_repo(remote)


def infer_driver(options: dict[str, object], repo: str) -> str:
    if options.get("driver"):
        return str(options["driver"])
    host = urlparse(repo).hostname or ""
    if host == "github.com":
        return "github"
    if host == "gitlab.com":
        return "gitlab"
    if re.search(r"bitbucket\.(com|org)", host):
        return "bitbucket"
    if os.environ.get("GITHUB_REPOSITORY"):
        return "github"
    if os.environ.get("CI_PROJECT_URL"):
        return "gitlab"
    if os.environ.get("BITBUCKET_REPO_UUID"):
        return "bitbucket"
    raise CmlError("driver not set")


def infer_token(options: dict[str, object]) -> str:
    if options.get("driver-token"):
        return str(options["driver-token"])
    for name in ("REPO_TOKEN", "repo_token", "GITHUB_TOKEN", "GITLAB_TOKEN", "BITBUCKET_TOKEN"):
        if os.environ.get(name):
            return os.environ[name]
    raise CmlError("token not found")


def infer_target(options: dict[str, object]) -> tuple[str, str, str]:
    """(repository, driver, token) as CML infers them for a command that talks to the forge."""
    repo = infer_repo(options)
    return repo, infer_driver(options, repo), infer_token(options)


def github_target(options: dict[str, object]) -> tuple[str, str]:
    """(repository, token) for the commands emulated on the github driver only."""
    repo, driver, token = infer_target(options)
    if driver != "github":
        raise CmlError(f"the CML stand-in emulates the github driver only, not {driver}")
    return repo, token


def event_payload() -> dict:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path or not Path(path).is_file():
        return {}
    return json.loads(Path(path).read_text())


def is_pr_event() -> bool:
    return os.environ.get("GITHUB_EVENT_NAME") in ("pull_request", "pull_request_target")


def trigger_sha() -> str:
    """The GitHub driver's `sha`: the PR head on pull_request events, else GITHUB_SHA."""
    if is_pr_event():
        sha = event_payload().get("pull_request", {}).get("head", {}).get("sha")
        if sha:
            return sha
    return os.environ.get("GITHUB_SHA") or git("rev-parse", "HEAD")


def event_pr() -> str | None:
    if is_pr_event():
        number = event_payload().get("pull_request", {}).get("number")
        return str(number) if number is not None else None
    return None


def commit_prs(sha: str) -> list[str]:
    """Stand-in for GitHub's 'list pull requests associated with a commit': from the forge model's pull requests
    (CI_STANDIN_FORGE_STATE: open ones containing the commit first, then the merged one that brought it), else
    from a table."""
    forge = os.environ.get("CI_STANDIN_FORGE_STATE")
    if forge and Path(forge).is_file():
        pulls = json.loads(Path(forge).read_text()).get("pulls", [])
        opened = [p for p in pulls if p["state"] == "open" and sha in p.get("commits", [])]
        merged = [p for p in pulls if p.get("merged_at") and sha in (p.get("merge_commit_sha"), *p.get("commits", []))]
        return [str(p["number"]) for p in opened + [p for p in merged if p not in opened]]
    path = os.environ.get("CI_STANDIN_CML_COMMIT_PRS")
    if not path or not Path(path).is_file():
        return []
    table = json.loads(Path(path).read_text() or "{}")
    found = table.get(sha)
    if found is None:
        return []
    return [str(n) for n in (found if isinstance(found, list) else [found])]


def parse_comment_target(options: dict[str, object]) -> dict[str, str]:
    """CML's parseCommentTarget (src/commenttarget.js)."""
    target = str(options.get("target") or "auto")
    commit = options.get("commit-sha")
    if commit:
        warn('cml: the --commitSha flag will be deprecated, please use --target="commit/<sha>"')
        target = f"commit/{commit}"
    if options.get("pr"):
        warn('cml: the --pr flag will be deprecated, please use --target="pr"')
        target = "pr"
    lowered = target.lower()
    if lowered == "commit":
        return {"type": "commit", "id": trigger_sha()}
    if lowered in ("pr", "auto"):
        pr = event_pr()
        if pr:
            return {"type": "pr", "id": pr}
        sha = trigger_sha()
        prs = commit_prs(sha)
        if prs:
            return {"type": "pr", "id": prs[0]}
        if target == "auto":
            return {"type": "commit", "id": sha}
        raise CmlError(f'PR for commit sha "{sha}" not found')
    if "/" not in target:
        raise CmlError(f'comment target "{target}" could not be parsed')
    kind, ident = target.split("/", 1)
    if kind.lower() == "commit":
        return {"type": "commit", "id": ident}
    if kind.lower() in ("pr", "issue"):
        return {"type": kind.lower(), "id": ident}
    raise CmlError(f'unsupported comment target "{target}"')


# --------------------------------------------------------------------------- watermark


def watermark_title(label: str) -> str:
    label = label.replace("{workflow}", os.environ.get("GITHUB_WORKFLOW", "undefined"))
    label = label.replace("{run}", os.environ.get("GITHUB_RUN_ID", "undefined"))
    title = f"CML watermark {label}".strip()
    for char in "_*[<":
        title = title.replace(char, "\\" + char)
    return title


def watermark(title: str, sha: str) -> str:
    return f'![]({WATERMARK_IMAGE}#{sha} "{title}")'


def has_watermark(body: str, title: str) -> bool:
    pattern = rf'!\[\]\({re.escape(WATERMARK_IMAGE)}#[0-9a-fA-F]+ "{re.escape(title)}"\)'
    return re.search(pattern, body) is not None


LINK = re.compile(r'(!?)\[([^\]]*)\]\(\s*([^)\s]+)(\s+"[^"]*")?\s*\)')


def publish_local_files(report: str, markdown_file: Path, publish_url: str) -> tuple[str, list[str]]:
    """Rewrite local images/links as CML's publish step does (nothing is uploaded)."""
    published: list[str] = []

    def replace(match: re.Match) -> str:
        bang, text, url, title = match.groups()
        if (title or "").strip().strip('"').startswith("CML watermark"):
            return match.group(0)
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", url) or url.startswith("#"):
            return match.group(0)
        path = (markdown_file.parent / url).resolve()
        if not path.is_file():
            return match.group(0)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        kind = path.suffix.lstrip(".").lower() or "bin"
        published.append(url)
        new_url = f"{publish_url.rstrip('/')}/{digest}?cml={kind}&cache-bypass={uuid.uuid4()}"
        return f"{bang}[{text}]({new_url}{title or ''})"

    return LINK.sub(replace, report), published


# ------------------------------------------------------------------------------ record


def log_path() -> Path:
    path = os.environ.get("CI_STANDIN_CML_LOG")
    if not path:
        raise CmlError("CI_STANDIN_CML_LOG is not set (the stand-in records comments there)")
    return Path(path)


@contextlib.contextmanager
def locked_log():
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            records = [json.loads(line) for line in handle if line.strip()]
            yield records, handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def append(handle, record: dict) -> None:
    handle.seek(0, os.SEEK_END)
    handle.write(json.dumps(record, sort_keys=True) + "\n")
    handle.flush()


def current_comments(records: list[dict]) -> dict[int, dict]:
    comments: dict[int, dict] = {}
    for rec in records:
        if rec.get("kind") != "comment":
            continue
        comments[rec["comment_id"]] = rec
    return comments


def warn(message: str) -> None:
    print(message, file=sys.stderr)


# ---------------------------------------------------------------------------- commands


def comment(name: str, options: dict[str, object], positionals: list[str], argv: list[str]) -> str:
    if name == "comment update":
        options["update"] = True
    if options.get("watch"):
        raise CmlError("--watch is not emulated by the CML stand-in")
    repo, token = github_target(options)
    update = bool(options.get("update"))
    if options.get("rm-watermark") and update:
        raise CmlError("watermarks are mandatory for updatable comments")
    if options.get("publish-native"):
        raise CmlError("Github does not support publish!")

    markdown_file = Path(positionals[0])
    try:
        user_report = markdown_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise CmlError(f"ENOENT: no such file or directory, open '{markdown_file}'") from exc

    label = str(options.get("watermark-title") or "")
    title = watermark_title(label)
    sha = str(options.get("commit-sha") or "") or trigger_sha()
    with contextlib.suppress(CmlError):
        sha = git("rev-parse", sha)
    report = user_report
    if not options.get("rm-watermark"):
        report = f"{user_report}\n\n{watermark(title, sha)}"
    published: list[str] = []
    if options.get("publish", True):
        report, published = publish_local_files(
            report, markdown_file, str(options.get("publish-url") or "https://asset.cml.dev")
        )

    target = parse_comment_target(options)
    with locked_log() as (records, handle):
        comments = current_comments(records)
        existing = None
        if update:
            same = [
                c
                for c in comments.values()
                if c["repo"] == repo
                and c["target"] == target
                and (options.get("rm-watermark") or has_watermark(c["body"], title))
            ]
            if same:
                existing = max(same, key=lambda c: c["comment_id"])
        comment_id = existing["comment_id"] if existing else 1 + max(comments, default=0)
        record = {
            "kind": "comment",
            "action": "update" if existing else "create",
            "comment_id": comment_id,
            "command": name,
            "repo": repo,
            "driver": "github",  # github_target refused any other
            "token_set": bool(token),
            "target": target,
            "watermark_title": label,
            "watermark": title,
            "sha": sha,
            "body": report,
            "report": user_report,
            "published": published,
            "event": os.environ.get("GITHUB_EVENT_NAME"),
            "argv": argv,
        }
        append(handle, record)
    if target["type"] == "commit":
        return f"{repo}/commit/{target['id']}#commitcomment-{comment_id}"
    kind = "pull" if target["type"] == "pr" else "issues"
    return f"{repo}/{kind}/{target['id']}#issuecomment-{comment_id}"


def runner_launch(options: dict[str, object], argv: list[str]) -> str:
    repo, driver, token = infer_target(options)
    cloud = options.get("cloud")
    if cloud == "aws" and not (os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY")):
        raise CmlError("--cloud=aws needs AWS credentials in the environment (AWS_ACCESS_KEY_ID, ...)")
    if cloud and not options.get("cloud-type"):
        warn("cml: no --cloud-type, the default machine type (m) would be used")
    record = {
        "kind": "runner",
        "command": "runner launch",
        "repo": repo,
        "driver": driver,
        "token_set": bool(token),
        "options": {k: v for k, v in options.items() if k != "driver-token"},
        "aws_region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
        "argv": [a for a in argv if token not in a],
    }
    with locked_log() as (_, handle):
        append(handle, record)
    return f"runner with labels {options.get('labels', 'cml')} requested on {cloud or 'this machine'}"


def pull_requests(records: list[dict]) -> dict[int, dict]:
    """number -> the pull request as it stands (opened, then maybe closed) in the log."""
    found: dict[int, dict] = {}
    for rec in records:
        if rec.get("kind") != "pr":
            continue
        if rec.get("action") == "create":
            found[rec["number"]] = dict(rec, state="open")
        elif rec["number"] in found:
            found[rec["number"]]["state"] = "closed"
    return found


def pr_create(options: dict[str, object], globs: list[str], argv: list[str]) -> str:
    """CML's prCreate (src/cml.js), for the case without paths to commit."""
    if globs:
        raise CmlError("committing paths with `cml pr create GLOB...` is not emulated by the CML stand-in")
    if options.get("merge") or options.get("rebase") or options.get("squash"):
        raise CmlError("auto-merge is not emulated by the CML stand-in")
    repo, token = github_target(options)
    repo_prepare(options)  # CML's ci(): identity (the real one also puts the token in the remote URL)
    remote = str(options.get("remote") or "origin")
    url = git("config", "--get", f"remote.{remote}.url")
    sha = trigger_sha()
    target = git("branch", "--show-current")
    if options.get("target-branch"):
        target = str(options["target-branch"])
        if subprocess.run(["git", "ls-remote", "--exit-code", url, target], capture_output=True).returncode:
            print("The target branch does not exist.", file=sys.stderr)
            raise SystemExit(1)
    source = str(options.get("branch") or f"{target}-cml-pr-{sha[:8]}")
    exists = source in git("ls-remote", url, source)
    with locked_log() as (records, handle):
        prs = pull_requests(records)
        if exists:
            print(f"::warning::Branch {source} already exists", file=sys.stderr)
            for pr in prs.values():
                same = source.endswith(pr["source"]) and target.endswith(pr["target"])
                if pr["repo"] == repo and pr["state"] == "open" and same:
                    return _render_pr(pr["url"], options)
        else:
            git("fetch", remote, sha)
            git("checkout", "-b", source)
            git("push", "--set-upstream", remote, source)
        number = max([FIRST_PR - 1, *prs]) + 1
        record = {
            "kind": "pr",
            "action": "create",
            "number": number,
            "repo": repo,
            "source": source,
            "target": target,
            "title": str(options.get("title") or f"CML PR for {target} {sha[:8]}"),
            "body": str(options.get("body") or f"Automated commits for {repo}/commit/{sha} created by CML."),
            "url": f"{repo}/pull/{number}",
            "token_set": bool(token),
            "event": os.environ.get("GITHUB_EVENT_NAME"),
            "argv": [a for a in argv if token not in a],
        }
        append(handle, record)
    return _render_pr(record["url"], options)


def _render_pr(url: str, options: dict[str, object]) -> str:
    return f"[CML's Pull Request]({url})" if options.get("md") else url


def repo_prepare(options: dict[str, object]) -> str:
    git("config", "user.name", str(options.get("user-name") or "Olivaw[bot]"))
    git("config", "user.email", str(options.get("user-email") or "olivaw@iterative.ai"))
    depth = options.get("fetch-depth")
    if depth is None and options.get("unshallow"):
        depth = "0"
    if depth is not None:
        if int(float(str(depth))) <= 0:
            if git("rev-parse", "--is-shallow-repository") == "true":
                git("fetch", "--all", "--tags", "--unshallow")
        else:
            git("fetch", "--all", "--tags", "--depth", str(int(float(str(depth)))))
    return ""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv in (["--version"], ["-v"]):
        print(VERSION)
        return 0
    try:
        name, options, positionals = parse_args(argv)
        if options.get("help"):
            print(f"cml {name} (stand-in for CML {VERSION}; see tests/ci/cml_standin.py)")
            return 0
        if name in ("comment create", "comment update"):
            out = comment(name, options, positionals, argv)
        elif name == "runner launch":
            out = runner_launch(options, argv)
        elif name == "repo prepare":
            out = repo_prepare(options)
        elif name == "pr create":
            out = pr_create(options, positionals, argv)
        else:
            raise CmlError(f"`cml {name}` is a CML command the stand-in does not emulate")
    except UsageError as exc:
        print(f"cml <command>\n\n{exc}", file=sys.stderr)
        return 1
    except CmlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if out:
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
