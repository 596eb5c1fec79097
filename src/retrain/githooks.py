"""The post-checkout hook `retrain setup` installs: DVC's checkout of the data, chained to the team's own hook."""

from __future__ import annotations

import shlex
from pathlib import Path

from retrain.errors import BadInputError

HOOK = "post-checkout"
# Where a hook the clone already had is kept; ours runs it with the same arguments.
CHAINED = "post-checkout.local"
# Recognises our hook (this version's and earlier ones'), so that setup replaces it instead of chaining to it.
MARKER = "# Installed by `retrain setup`"


def post_checkout_script(dvc_executable: str) -> str:
    """The hook's text: DVC's checkout (advice on failure, never an error), then the chained hook if any."""
    return f"""#!/bin/sh
{MARKER}: bring the data and model of the checked-out commit along.
if ! {shlex.quote(dvc_executable)} git-hook post-checkout "$@"; then
    # shellcheck disable=SC2016 # the backticks are advice to print, not commands to run
    echo 'retrain: the data of this commit is not in the local cache; run `dvc pull` (or `retrain restore`)' >&2
fi
# The hook this clone had before `retrain setup` runs as before, and its exit status stays the checkout's;
# DVC's part never fails a checkout: git has already moved HEAD.
chained="$(dirname "$0")/{CHAINED}"
if [ -x "$chained" ]; then
    exec "$chained" "$@"
fi
exit 0
"""


def _ours(path: Path) -> bool:
    # Bytes: a team's hook may be a binary or in any encoding.
    return path.is_file() and MARKER.encode() in path.read_bytes()


def install_post_checkout(hooks: Path, dvc_executable: str) -> None:
    """Write our hook into `hooks`; a foreign hook already there is kept as post-checkout.local and chained to.

    Idempotent: our own hook is rewritten in place, never chained to."""
    hook, chained = hooks / HOOK, hooks / CHAINED
    hooks.mkdir(parents=True, exist_ok=True)
    if _ours(chained):
        chained.unlink()  # chaining to ourselves would loop forever
    if (hook.exists() or hook.is_symlink()) and not _ours(hook):
        if chained.exists() or chained.is_symlink():
            raise BadInputError(
                f"{hook} and {chained} both exist and neither is retrain's; merge them into {chained} "
                "(it keeps running after every checkout), remove the other, then re-run `retrain setup`."
            )
        hook.rename(chained)
    hook.write_text(post_checkout_script(dvc_executable))
    hook.chmod(0o755)
