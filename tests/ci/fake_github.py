"""A small stand-in for GitHub's REST API, for the CI tests: what `retrain announce` and the CML stand-in ask.

It serves, from the forge's state file (tests/ci/forge.py writes it), with GitHub's paths, parameters and shapes:

* ``GET /repos/{owner}/{repo}/pulls`` with ``state`` (open, closed, all; default open), ``base``, ``sort``
  (created, updated; default created), ``direction`` (default desc), ``per_page`` (default 30, at most 100) and
  ``page`` ("List pull requests", https://docs.github.com/en/rest/pulls/pulls#list-pull-requests);
* ``GET /repos/{owner}/{repo}/commits/{sha}/pulls`` ("List pull requests associated with a commit",
  https://docs.github.com/en/rest/commits/commits#list-pull-requests-associated-with-a-commit): the merged pull
  request that brought the commit, and open pull requests that contain it. GitHub documents no order; this one
  lists open pull requests first, the order that makes "the first associated pull request" the wrong one;
* ``POST /repos/{owner}/{repo}/actions/workflows/{workflow_file}/dispatches`` with ``{"ref", "inputs"}`` ("Create a
  workflow dispatch event", https://docs.github.com/en/rest/actions/workflows#create-a-workflow-dispatch-event):
  204 when the token may (Actions: write) and the workflow file at that branch or tag has a ``workflow_dispatch``
  trigger declaring every input given; 403, 404 or 422 with GitHub's messages otherwise. Accepted dispatches are
  recorded in the state's ``dispatches`` list (the runs GitHub would start).

A token is required and must be one the forge issued (401 otherwise, as GitHub answers a bad token). Every request
is recorded in the state's ``api_log`` list.
"""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from tests.ci.forge import locked, triggers


def associated_pulls(pulls: list[dict], sha: str) -> list[dict]:
    """GitHub's "pull requests associated with a commit", open ones first."""
    opened = [p for p in pulls if p["state"] == "open" and sha in p.get("commits", [])]
    merged = [
        p for p in pulls if p.get("merged_at") and (sha == p.get("merge_commit_sha") or sha in p.get("commits", []))
    ]
    return opened + [p for p in merged if p not in opened]


def public(pull: dict) -> dict:
    """A pull request as the API shows it (the forge's bookkeeping left out)."""
    return {key: value for key, value in pull.items() if key != "commits"}


class FakeGitHub:
    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file
        self.lock = threading.Lock()
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeGitHub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def requests(self) -> list[dict]:
        return json.loads(self.state_file.read_text()).get("api_log", [])

    def _answer(self, method: str, path: str, query: dict[str, str], token: str | None) -> tuple[int, object]:
        with self.lock, locked(self.state_file):
            state = json.loads(self.state_file.read_text())
            state.setdefault("api_log", []).append({"method": method, "path": path, "query": query})
            self.state_file.write_text(json.dumps(state, indent=1))
        if not token or token not in state.get("tokens", {}):
            return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
        parts = path.strip("/").split("/")
        if method != "GET" or len(parts) < 4 or parts[0] != "repos" or "/".join(parts[1:3]) != state["repository"]:
            return 404, {"message": "Not Found"}
        pulls = state.get("pulls", [])
        if parts[3:] == ["pulls"]:
            wanted = query.get("state", "open")
            if wanted not in ("open", "closed", "all"):
                return 422, {"message": "Validation Failed"}
            found = [p for p in pulls if wanted == "all" or p["state"] == wanted]
            if "base" in query:
                found = [p for p in found if p["base"]["ref"] == query["base"]]
            key = "updated_at" if query.get("sort") == "updated" else "created_at"
            found.sort(key=lambda p: (p[key], p["number"]), reverse=query.get("direction", "desc") == "desc")
            per_page = min(int(query.get("per_page", 30)), 100)
            page = int(query.get("page", 1))
            return 200, [public(p) for p in found[(page - 1) * per_page : page * per_page]]
        if len(parts) == 6 and parts[3] == "commits" and parts[5] == "pulls":
            return 200, [public(p) for p in associated_pulls(pulls, parts[4])]
        return 404, {"message": "Not Found"}

    def dispatches(self) -> list[dict]:
        return json.loads(self.state_file.read_text()).get("dispatches", [])

    def _dispatch(self, path: str, body: dict, token: str | None) -> tuple[int, object]:
        with self.lock, locked(self.state_file):
            state = json.loads(self.state_file.read_text())
            state.setdefault("api_log", []).append({"method": "POST", "path": path, "body": body})
            status, answer = self._check_dispatch(state, path, body, token)
            if status == 204:
                state.setdefault("dispatches", []).append({**answer, "token": token})
            self.state_file.write_text(json.dumps(state, indent=1))
        return status, (None if status == 204 else answer)

    def _check_dispatch(self, state: dict, path: str, body: dict, token: str | None) -> tuple[int, dict]:
        known = state.get("tokens", {}).get(token or "")
        if known is None:
            return 401, {"message": "Bad credentials"}
        parts = path.strip("/").split("/")
        if len(parts) != 7 or parts[0] != "repos" or "/".join(parts[1:3]) != state["repository"]:
            return 404, {"message": "Not Found"}
        if parts[3:5] != ["actions", "workflows"] or parts[6] != "dispatches":
            return 404, {"message": "Not Found"}
        # A classic token of a user with write access may; every other kind needs Actions: write.
        if known["kind"] != "user" and known["permissions"].get("actions") != "write":
            return 403, {"message": "Resource not accessible by personal access token"}
        ref, inputs = body.get("ref"), body.get("inputs") or {}
        if not isinstance(ref, str) or not ref:
            return 422, {"message": 'Invalid request. "ref" wasn\'t supplied.'}
        full = ref if ref.startswith("refs/") else None
        origin = ["git", f"--git-dir={state['origin']}"]
        for candidate in [full] if full else [f"refs/heads/{ref}", f"refs/tags/{ref}"]:
            found = subprocess.run([*origin, "rev-parse", "--verify", "--quiet", candidate], capture_output=True)
            if found.returncode == 0:
                full, sha = candidate, found.stdout.decode().strip()
                break
        else:
            return 422, {"message": f"No ref found for: {ref}"}
        shown = subprocess.run(
            [*origin, "show", f"{sha}:.github/workflows/{parts[5]}"], capture_output=True, text=True, check=False
        )
        if shown.returncode != 0:
            return 404, {"message": "Not Found"}
        import yaml

        on = triggers(yaml.safe_load(shown.stdout))
        if "workflow_dispatch" not in on:
            return 422, {"message": "Workflow does not have 'workflow_dispatch' trigger"}
        declared = set((on["workflow_dispatch"] or {}).get("inputs") or {})
        unexpected = sorted(set(inputs) - declared)
        if unexpected:
            return 422, {"message": f"Unexpected inputs provided: {json.dumps(unexpected)}"}
        return 204, {"workflow": parts[5], "ref": full, "sha": sha, "inputs": inputs, "identity": known["identity"]}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server calls it by this name
                url = urlparse(self.path)
                query = {key: values[-1] for key, values in parse_qs(url.query).items()}
                auth = self.headers.get("Authorization", "")
                token = auth.split(" ", 1)[1] if " " in auth else None
                status, body = fake._answer("GET", url.path, query, token)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # http.server calls it by this name
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    body = None
                auth = self.headers.get("Authorization", "")
                token = auth.split(" ", 1)[1] if " " in auth else None
                if not isinstance(body, dict):
                    status, answer = 400, {"message": "Problems parsing JSON"}
                else:
                    status, answer = fake._dispatch(urlparse(self.path).path, body, token)
                self.send_response(status)
                if answer is None:
                    self.end_headers()
                    return
                data = json.dumps(answer).encode()
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:  # quiet
                pass

        return Handler
