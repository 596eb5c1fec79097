"""Body of the actions/create-github-app-token stand-in (see action.yml beside this file).

The real action (lib/main.js, v3.1.1): the client id (or the deprecated app id) must be set; the token is for the
current repository unless `owner`/`repositories` say otherwise; `permission-*` inputs narrow the token to those
permissions (all of the installation's when none is set), and asking for one the installation lacks fails.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import sys
from pathlib import Path


def fail(message: str) -> None:
    print(f"::error::{message}")
    sys.exit(1)


def main() -> None:
    client_id = os.environ.get("INPUT_CLIENT_ID") or os.environ.get("INPUT_APP_ID", "")
    if not client_id:
        fail(
            "The 'client-id' (or deprecated 'app-id') input must be set to a non-empty string. If using a secret "
            "or variable, ensure it is available in this workflow context."
        )
    private_key = os.environ.get("INPUT_PRIVATE_KEY", "").replace("\\n", "\n").strip()
    repository = os.environ["GITHUB_REPOSITORY"]
    owner = os.environ.get("INPUT_OWNER", "")
    names = [n.strip() for n in os.environ.get("INPUT_REPOSITORIES", "").replace(",", "\n").splitlines() if n.strip()]
    wanted = {
        key.removeprefix("INPUT_PERMISSION_").lower(): value
        for key, value in os.environ.items()
        if key.startswith("INPUT_PERMISSION_") and value
    }
    for name, level in wanted.items():
        if level not in ("read", "write", "admin"):
            fail(f"permission-{name.replace('_', '-')}: '{level}' is not read or write")

    state_file = Path(os.environ["CI_STANDIN_FORGE_STATE"])
    with state_file.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads(state_file.read_text())
        app = state["apps"].get(client_id)
        if app is None or app["private_key"].strip() != private_key:
            fail("[@octokit/auth-app] 401: A JSON web token could not be decoded (wrong client id or private key)")
        scope = [f"{owner or repository.split('/')[0]}/{name}" for name in names] or (
            [repository] if not owner else ["*"]
        )
        if any(item not in (repository, "*") for item in scope):
            fail(f"Not Found: the App {app['slug']} is not installed on {', '.join(scope)}")
        granted = app.get("permissions", {})
        lacking = [name for name, level in wanted.items() if granted.get(name) not in (level, "write", "admin")]
        if lacking:
            fail(f"422: The permissions requested are not granted to this installation: {', '.join(lacking)}")
        token = "ghs_app_" + secrets.token_hex(16)
        state["tokens"][token] = {
            "identity": f"{app['slug']}[bot]",
            "kind": "app",
            "permissions": wanted or granted,
            "repositories": scope,
        }
        state_file.write_text(json.dumps(state, indent=1))
    print(f"::add-mask::{token}")
    shown = wanted or granted
    print(f"create-github-app-token stand-in: token for {', '.join(scope)} as {app['slug']}[bot], permissions {shown}")
    with open(os.environ["GITHUB_OUTPUT"], "a") as out:
        out.write(f"token={token}\ninstallation-id={app['installation_id']}\napp-slug={app['slug']}\n")


if __name__ == "__main__":
    main()
