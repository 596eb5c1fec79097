"""Is the DVC remote reachable with the credentials at hand? One clear answer before any compute."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from retrain.errors import BadInputError, RemoteUnreachableError

CONNECT_TIMEOUT_S = 5


def check_local(name: str, url: str, repo_root: Path) -> None:
    """A local-directory remote: create it if missing (it is this checkout's embedded default)."""
    path = Path(url)
    path = path if path.is_absolute() else (repo_root / ".dvc" / path).resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BadInputError(f"DVC remote `{name}` at {path} cannot be created: {error.strerror}.") from None
    if not os.access(path, os.W_OK):
        raise BadInputError(f"DVC remote `{name}` at {path} is not writable; fix its permissions.")


def s3_client(config: dict[str, Any]) -> Any:  # botocore builds the client's class at run time: untyped
    """A boto3 S3 client with the endpoint and credentials a DVC S3 remote's config names (else the environment's),
    and short timeouts: a dead endpoint is reported in seconds."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        profile_name=config.get("profile"),
        aws_access_key_id=config.get("access_key_id"),
        aws_secret_access_key=config.get("secret_access_key"),
        region_name=config.get("region"),
    )
    return session.client(
        "s3",
        endpoint_url=config.get("endpointurl"),
        config=Config(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=10, retries={"max_attempts": 2}),
    )


def check_s3(name: str, config: dict[str, Any]) -> None:
    """List at most one key under the remote's prefix, with the same endpoint and credentials that DVC will use.

    Not HeadBucket: S3 authorizes it as s3:ListBucket with no `s3:prefix`, and the shipped policies (docs/aws) grant
    s3:ListBucket only under their prefixes, so on AWS a HeadBucket would be refused to every role."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    parsed = urlparse(config["url"])
    bucket, prefix = parsed.netloc, parsed.path.strip("/")
    client = s3_client(config)
    try:
        client.list_objects_v2(Bucket=bucket, MaxKeys=1, **({"Prefix": f"{prefix}/"} if prefix else {}))
    except NoCredentialsError:
        raise BadInputError(
            f"no AWS credentials for DVC remote `{name}` ({config['url']}): set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE); in GitHub Actions configure-aws-credentials does it; "
            "or run on the local remote with --remote local."
        ) from None
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket"):
            raise BadInputError(
                f"bucket `{bucket}` of DVC remote `{name}` does not exist: create it with "
                f"`python scripts/bootstrap_s3.py {bucket}`, or fix the remote's url in .dvc/config."
            ) from None
        if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            raise BadInputError(
                f"access denied to bucket `{bucket}` of DVC remote `{name}` ({code}): the credentials at hand "
                "are wrong or lack s3:ListBucket/GetObject/PutObject on it; fix the key or the IAM policy."
            ) from None
        raise RemoteUnreachableError(f"DVC remote `{name}`: S3 answered {code}: {error}") from None
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as error:
        endpoint = config.get("endpointurl") or os.environ.get("AWS_ENDPOINT_URL") or "AWS S3"
        raise RemoteUnreachableError(
            f"DVC remote `{name}` is not reachable at {endpoint} ({type(error).__name__}); "
            "nothing was changed. Re-run when S3 is reachable."
        ) from None


def check_reachable(name: str, config: dict[str, Any], repo_root: Path) -> None:
    scheme = urlparse(config["url"]).scheme
    if scheme == "s3":
        check_s3(name, config)
    elif scheme in ("", "file"):
        check_local(name, config["url"], repo_root)
    # other schemes (gs, azure, ssh...) are left to DVC's own errors


DVC_CONFIG = ".dvc/config"
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")  # S3's rules for a bucket name


def set_bucket(root: Path, name: str, url: str) -> str:
    """Day one: point remote `name` at `url` (s3://BUCKET/PREFIX) in the committed .dvc/config, through DVC's own
    config API, and commit that one file. Everyone and every CI system reads it from git from then on."""
    from retrain import gitops

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
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo

    try:
        repo = Repo(str(root))
    except NotDvcRepoError:
        raise BadInputError(f"{root}: not a DVC repository (no .dvc folder); run this in the project.") from None
    try:
        remotes = repo.config.read("repo").get("remote", {})
        if name not in remotes:
            known = ", ".join(remotes) or "none"
            raise BadInputError(f"no remote `{name}` in {DVC_CONFIG} (known: {known}); pass --name.")
        if remotes[name].get("url") == url:
            return f"`{name}` already points at {url}: nothing to change"
        with repo.config.edit("repo") as conf:
            conf["remote"][name]["url"] = url
        shadowed = repo.config.read("local").get("remote", {}).get(name, {}).get("url")
    finally:
        repo.close()
    made = gitops.commit(root, [DVC_CONFIG], f"dvc: the CI remote `{name}` is {url}\n\n(retrain remote set-bucket)")
    note = (
        f" (this clone's .dvc/config.local still overrides it with {shadowed}: `dvc remote modify --local --unset "
        f"{name} url`)"
        if shadowed
        else ""
    )
    return f"`{name}` now points at {url}, committed as {made[:8]}; push it (through a pull request){note}"
