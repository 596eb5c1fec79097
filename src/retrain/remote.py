"""`retrain remote set-bucket`: day one, point the CI's DVC remote at a bucket in the committed .dvc/config."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

from retrain import dvcconfig, gitops
from retrain.errors import BadInputError

DVC_CONFIG = ".dvc/config"
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")  # S3's rules for a bucket name


def set_bucket(root: Path, name: str, url: str) -> str:
    """Day one: point remote `name` at `url` (s3://BUCKET/PREFIX) in the committed .dvc/config, through DVC's own
    config API, and commit that one file. Everyone and every CI system reads it from git from then on."""
    parsed = urlparse(url)
    bucket, prefix = parsed.netloc, parsed.path.strip("/")
    if parsed.scheme != "s3" or not BUCKET_NAME.fullmatch(bucket) or ".." in bucket or parsed.query:
        raise BadInputError(
            f"{url}: expected s3://BUCKET/PREFIX (a bucket name of 3-63 lowercase letters, digits, "
            "dots and hyphens; the prefix is optional)."
        )
    url = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
    if DVC_CONFIG in gitops.dirty_tracked_files(root):
        raise BadInputError(f"{DVC_CONFIG} has uncommitted changes: commit or revert them first.")
    change = dvcconfig.set_remote_url(root, name, url, DVC_CONFIG)
    if not change.changed:
        return f"`{name}` already points at {url}: nothing to change"
    shadowed = change.shadowed_by
    made = gitops.commit(root, [DVC_CONFIG], f"dvc: the CI remote `{name}` is {url}\n\n(retrain remote set-bucket)")
    note = (
        f" (this clone's .dvc/config.local still overrides it with {shadowed}: `dvc remote modify --local --unset "
        f"{name} url`)"
        if shadowed
        else ""
    )
    return f"`{name}` now points at {url}, committed as {made[:8]}; push it (through a pull request){note}"
