"""Ask GitHub to run a workflow of this repository on a branch (a `workflow_dispatch` event).

Travis's `develop` and cron builds hand the release (`retrain.yml`) and the ingest (`ingest.yml`) to GitHub
Actions this way, so that Travis holds no credential that can push, tag or write where releases read: the token,
`GITHUB_DISPATCH_TOKEN`, is a fine-grained personal access token for this repository with *Actions: write* only
(docs/ci.md, "Travis CI"). GitHub then runs the workflow file of that branch, in its own environments.

    python scripts/dispatch_workflow.py retrain.yml --ref develop [--input NAME=VALUE ...]

Standard library only: it runs before (and without) `make install-runtime`. Exit 0 when GitHub accepted the
dispatch (HTTP 204), 2 when it refused it (the token, the ref, the workflow, its inputs; the last line says why),
1 when GitHub could not be reached.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_API = "https://api.github.com"


def dispatch_url(api: str, repository: str, workflow: str) -> str:
    quoted = urllib.parse.quote(workflow, safe="")
    return f"{api.rstrip('/')}/repos/{repository}/actions/workflows/{quoted}/dispatches"


def dispatch(api: str, repository: str, workflow: str, ref: str, inputs: dict[str, str], token: str) -> None:
    """POST the dispatch ("Create a workflow dispatch event"); raises urllib's HTTPError on a refusal."""
    body = json.dumps({"ref": ref, "inputs": inputs}).encode()
    request = urllib.request.Request(  # noqa: S310 (an https URL, or the tests' local fake)
        dispatch_url(api, repository, workflow),
        data=body,
        method="POST",
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (see above)
        if response.status != 204:
            raise RuntimeError(f"unexpected answer {response.status} from GitHub")


def parse_inputs(items: list[str]) -> dict[str, str]:
    inputs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"error: --input takes NAME=VALUE, not {item!r}")
        inputs[name] = value
    return inputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workflow", help="the workflow file name, e.g. retrain.yml")
    parser.add_argument("--ref", required=True, help="the branch (or tag) whose workflow file runs, e.g. develop")
    parser.add_argument("--input", action="append", default=[], metavar="NAME=VALUE", help="a dispatch input")
    parser.add_argument(
        "--repo",
        default=os.environ.get("GITHUB_REPOSITORY") or os.environ.get("TRAVIS_REPO_SLUG"),
        help="OWNER/REPO (default: $GITHUB_REPOSITORY, else $TRAVIS_REPO_SLUG)",
    )
    args = parser.parse_args(argv)
    token = os.environ.get("GITHUB_DISPATCH_TOKEN", "")
    if not token:
        print(
            "error: GITHUB_DISPATCH_TOKEN is not set: a fine-grained token for this repository with Actions: write "
            "only (docs/ci.md, Travis CI)",
            file=sys.stderr,
        )
        return 2
    if not args.repo:
        print("error: no repository: pass --repo OWNER/REPO", file=sys.stderr)
        return 2
    api = os.environ.get("GITHUB_API_URL") or DEFAULT_API
    inputs = parse_inputs(args.input)
    try:
        dispatch(api, args.repo, args.workflow, args.ref, inputs, token)
    except urllib.error.HTTPError as error:
        try:
            reason = json.loads(error.read() or b"{}").get("message", "")
        except (json.JSONDecodeError, AttributeError):
            reason = ""
        why = f"{error.code}: {reason}" if reason else str(error.code)
        print(f"error: GitHub refused to run {args.workflow} on {args.ref} ({why})", file=sys.stderr)
        return 2
    except (urllib.error.URLError, TimeoutError, RuntimeError) as error:
        print(f"error: could not reach GitHub at {api}: {error}", file=sys.stderr)
        return 1
    shown = " ".join(f"{key}={value}" for key, value in inputs.items())
    print(f"dispatched {args.workflow} on {args.ref} of {args.repo}{' with ' + shown if shown else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
