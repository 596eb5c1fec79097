"""Is the DVC remote reachable with the credentials at hand? One clear answer before any compute."""

from __future__ import annotations

import os
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


def check_http(name: str, url: str) -> None:
    """An HTTP(S) remote answers at all. Any HTTP status is an answer (a listing is rarely served, and 401 or 404
    still say the host is there); no answer is unreachable. Not DVC's HTTP filesystem: it reports an unresolvable
    host as a missing file, and every object would then be called missing."""
    import urllib.error
    import urllib.request

    head = urllib.request.Request(url, method="HEAD")  # noqa: S310 - check_reachable passes http(s) urls only
    try:
        with urllib.request.urlopen(head, timeout=CONNECT_TIMEOUT_S):  # noqa: S310 - as above
            pass
    except urllib.error.HTTPError:
        return  # the server answered
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise RemoteUnreachableError(
            f"DVC remote `{name}` is not reachable at {url} ({reason}); nothing was changed. Re-run when it is "
            "reachable, or choose another remote with --remote NAME."
        ) from None


def push_advice(config: dict[str, Any]) -> str:
    """What to do when a push to this remote failed."""
    if urlparse(config["url"]).scheme in ("http", "https"):
        return (
            "an HTTP(S) remote takes uploads only if its server accepts DVC's upload method (`method`, POST by "
            "default); if it is read-only, push to a writable remote: --remote NAME, or `dvc remote default NAME`."
        )
    return "Re-run when the remote is reachable."


def check_reachable(name: str, config: dict[str, Any], repo_root: Path) -> None:
    scheme = urlparse(config["url"]).scheme
    if scheme == "s3":
        check_s3(name, config)
    elif scheme in ("", "file"):
        check_local(name, config["url"], repo_root)
    elif scheme in ("http", "https"):
        check_http(name, config["url"])
    # other schemes (gs, azure, ssh...) are left to DVC's own errors
