"""The landing location upstream systems drop deliveries into: an S3 prefix (the DVC remote's endpoint and credential
rules) or a local folder. Refused deliveries are copied to `rejected/` beside it, each with a reason file.

Every failure to reach the landing becomes one line naming it: exit 2 when the user has to fix something
(credentials, permissions, a missing bucket or folder), exit 1 when it did not answer (try again later).
"""

from __future__ import annotations

import os
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from retrain.errors import BadInputError, LandingUnreachableError
from retrain.ingest import keys
from retrain.ingest.keys import KeyFault
from retrain.ingest.plan import Delivery, normalize_etag, parse_time, source_label
from retrain.remotes import s3_client
from retrain.untrusted import printable

REJECTED = "rejected"
REASON_SUFFIX = ".reason.yaml"


@dataclass(frozen=True)
class Rejection:
    etag: str
    reason: str
    rejected: datetime | None = None  # when it was quarantined (its reason file says)


def reason_document(url: str, delivery: Delivery, reason: str, rejected_at: str) -> str:
    """The reason file beside a quarantined delivery: the message first, then what identifies the delivery."""
    return yaml.safe_dump(
        {
            "reason": reason,
            "source": url,
            "key": delivery.key,
            "etag": delivery.etag,
            "version_id": delivery.version_id,
            "size": delivery.size,
            "delivered": delivery.modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "rejected": rejected_at,
        },
        sort_keys=False,
        allow_unicode=True,
        width=1000,
    )


def within(folder: Path, name: str) -> Path:
    """`folder / name`, once its resolved path is known to lie under the resolved `folder` (a symlink in the way, or
    a name that is a path, would write elsewhere): checked before anything is written there."""
    path = folder / name
    if not path.resolve().is_relative_to(folder.resolve()):
        raise BadInputError(
            f"{printable(str(path))} resolves outside {folder} (a symlink in the way?); nothing was written there. "
            "Remove the link and re-run."
        )
    return path


def parse_reason(text: str) -> Rejection | None:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(document, dict) or "etag" not in document:
        return None
    return Rejection(str(document["etag"]), str(document.get("reason", "")), parse_time(document.get("rejected")))


class Landing(ABC):
    url: str  # normalised: `s3://bucket/prefix/` or `folder/`, as recorded in each batch's meta
    rejected_url: str
    label: str  # for batch and branch names

    @abstractmethod
    def relative(self, key: str) -> str:
        """A key relative to the landing (what a batch name and the rejected/ copy use)."""

    def shown(self, key: str) -> str:
        """The key as a person sees it: the landing's URL and the relative key, hidden characters escaped."""
        return self.url + printable(self.relative(key))

    def fault(self, key: str) -> KeyFault | None:
        """Why `key` is refused before it is read (a path, not a name), or None."""
        return keys.fault(self.relative(key), key)

    def quarantine_name(self, key: str) -> str:
        """Where a refused delivery's copy goes, relative to rejected/: its relative key, or (a key that is a path
        or holds hidden characters) a name made from the key's hash."""
        return keys.unsafe_name(key) if self.fault(key) else self.relative(key)

    @abstractmethod
    def check(self) -> None:
        """Reachable and readable, or one line naming the landing (before anything changes)."""

    @abstractmethod
    def list(self, start_after: str | None) -> list[Delivery]:
        """Every delivery whose key sorts after `start_after` (all when None), in key order."""

    @abstractmethod
    def rejection(self, key: str) -> Rejection | None:
        """The reason file of an earlier refusal of `key`, if any."""

    @abstractmethod
    def download(self, delivery: Delivery, dest: Path) -> Delivery | None:
        """Copy a delivery to `dest`; the delivery as read (None when it is gone or still being written)."""

    @abstractmethod
    def quarantine(self, delivery: Delivery, local: Path, reason_document: str) -> None:
        """Copy a refused delivery to rejected/ with its reason file (written last: it records the refusal)."""

    @abstractmethod
    def has_copy(self, key: str) -> bool:
        """Whether rejected/ holds the quarantine copy of `key` (retention deletes no original without it)."""

    @abstractmethod
    def delete(self, key: str, etag: str) -> bool:
        """Delete the original `key` if it is still the version `etag`; False when it changed or is gone."""


def open_landing(source: str, remote_config: dict[str, Any] | None) -> Landing:
    """The landing `source` names; S3 uses the DVC remote's endpoint and credentials when that remote is on S3."""
    if source.startswith("s3://"):
        config = {k: v for k, v in (remote_config or {}).items() if k != "url"}
        if not str((remote_config or {}).get("url", "")).startswith("s3://"):
            config = {}
        return S3Landing(source, config)
    if "://" in source:
        raise BadInputError(f"{source}: unsupported landing; use an S3 prefix (s3://bucket/landing/) or a folder.")
    return FolderLanding(source)


# --- a folder -----------------------------------------------------------------------------------------------
class FolderLanding(Landing):
    def __init__(self, source: str) -> None:
        # Absolute: the record names the landing, and a relative path would name another one from another folder.
        self.path = Path(os.path.abspath(source))
        if self.path.parent == self.path:
            raise BadInputError(f"{source}: a landing folder needs a parent folder for rejected/ beside it.")
        self.url = f"{self.path}/"
        self.rejected = self.path.parent / REJECTED
        self.rejected_url = f"{self.rejected}/"
        self.label = source_label(None, str(self.path))

    def relative(self, key: str) -> str:
        return key

    def check(self) -> None:
        if not self.path.is_dir():
            raise BadInputError(f"landing folder {self.url} does not exist; create it or fix SOURCE.")
        if not os.access(self.path, os.R_OK | os.X_OK):
            raise BadInputError(f"landing folder {self.url} is not readable; fix its permissions.")

    def list(self, start_after: str | None) -> list[Delivery]:
        found = []
        for folder, dirs, files in os.walk(self.path):
            dirs[:] = sorted(name for name in dirs if not name.startswith("."))
            base = Path(folder).relative_to(self.path)
            for name in sorted(files):
                key = (base / name).as_posix()
                if name.startswith(".") or (start_after is not None and key <= start_after):
                    continue  # dotfiles are uploads in progress or hidden files, not deliveries
                stat = (Path(folder) / name).stat()
                found.append(_folder_delivery(key, stat))
        return sorted(found, key=lambda item: item.key)

    def rejected_path(self, key: str, suffix: str = "") -> Path:
        """The quarantine copy of `key` (with `suffix`: its reason file), checked to lie under rejected/."""
        return within(self.rejected, self.quarantine_name(key) + suffix)

    def rejection(self, key: str) -> Rejection | None:
        path = self.rejected_path(key, REASON_SUFFIX)
        return parse_reason(path.read_text(errors="replace")) if path.is_file() else None

    def download(self, delivery: Delivery, dest: Path) -> Delivery | None:
        source = self.path / delivery.key
        try:
            before = source.stat()
            shutil.copyfile(source, dest)
            after = source.stat()
        except FileNotFoundError:
            return None
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
            return None  # still being written: the next run takes it
        return _folder_delivery(delivery.key, after)

    def quarantine(self, delivery: Delivery, local: Path, reason_document: str) -> None:
        target = self.rejected_path(delivery.key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, target)
            partial = target.with_name(f".{target.name}{REASON_SUFFIX}.partial")
            partial.write_text(reason_document)
            partial.replace(target.with_name(target.name + REASON_SUFFIX))
        except OSError as error:
            raise BadInputError(
                f"cannot write to {self.rejected_url} ({error.strerror}): quarantine needs write access there."
            ) from None

    def has_copy(self, key: str) -> bool:
        return self.rejected_path(key).is_file()

    def delete(self, key: str, etag: str) -> bool:
        path = self.path / key
        try:
            if _folder_delivery(key, path.stat()).etag != etag:
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as error:
            raise BadInputError(
                f"cannot delete {self.shown(key)} ({error.strerror}): release.ingest_retention_days needs write "
                f"access to {self.url}; fix its permissions or unset the option."
            ) from None
        return True


def _folder_delivery(key: str, stat: os.stat_result) -> Delivery:
    modified = datetime.fromtimestamp(stat.st_mtime, UTC).replace(microsecond=0)
    return Delivery(key, f"{stat.st_size}-{stat.st_mtime_ns}", stat.st_size, modified)


# --- an S3 prefix -------------------------------------------------------------------------------------------
class S3Landing(Landing):
    def __init__(self, source: str, config: dict[str, Any]) -> None:
        parsed = urlparse(source)
        self.bucket = parsed.netloc
        self.prefix = parsed.path.lstrip("/")
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        if not self.bucket or not self.prefix:
            raise BadInputError(
                f"{source}: the landing must be a prefix in a bucket (s3://bucket/landing/), so that rejected/ can "
                "sit beside it."
            )
        self.url = f"s3://{self.bucket}/{self.prefix}"
        parent = self.prefix.rstrip("/").rpartition("/")[0]
        self.rejected_prefix = f"{parent}/{REJECTED}/" if parent else f"{REJECTED}/"
        self.rejected_url = f"s3://{self.bucket}/{self.rejected_prefix}"
        self.label = source_label(self.bucket, self.prefix)
        self.config = config
        self.client = s3_client(config)

    def relative(self, key: str) -> str:
        return key.removeprefix(self.prefix)

    @contextmanager
    def _errors(self, action: str, where: str) -> Iterator[None]:
        from botocore.exceptions import (
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
            ReadTimeoutError,
        )

        try:
            yield
        except NoCredentialsError:
            raise BadInputError(
                f"no AWS credentials for the landing {self.url}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or "
                "AWS_PROFILE); in GitHub Actions the ingest role does it."
            ) from None
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchBucket",):
                raise BadInputError(f"the landing's bucket `{self.bucket}` does not exist ({self.url}).") from None
            if code in ("403", "AccessDenied") and action == "delete":
                raise BadInputError(
                    f"access denied ({code}) to delete {where}: release.ingest_retention_days needs s3:DeleteObject "
                    f"on {self.url} for the ingest role; grant it or unset the option."
                ) from None
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise BadInputError(
                    f"access denied ({code}) to {action} {where}: the credentials lack the permission; the ingest "
                    f"role needs s3:ListBucket and s3:GetObject on {self.url}, s3:PutObject on {self.rejected_url}."
                ) from None
            raise LandingUnreachableError(f"the landing {self.url}: S3 answered {code} to {action} {where}.") from None
        except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as error:
            endpoint = self.config.get("endpointurl") or os.environ.get("AWS_ENDPOINT_URL") or "AWS S3"
            raise LandingUnreachableError(
                f"the landing {self.url} is not reachable at {endpoint} ({type(error).__name__}); nothing was "
                "changed. Re-run when S3 is reachable."
            ) from None

    def check(self) -> None:
        with self._errors("list", self.url):
            self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)

    def list(self, start_after: str | None) -> list[Delivery]:
        arguments = {"Bucket": self.bucket, "Prefix": self.prefix}
        if start_after and start_after >= self.prefix:
            arguments["StartAfter"] = start_after
        found = []
        with self._errors("list", self.url):
            for page in self.client.get_paginator("list_objects_v2").paginate(**arguments):
                for item in page.get("Contents", []):
                    name = item["Key"].rsplit("/", 1)[-1]
                    if not name or name.startswith("."):
                        continue  # folder markers, hidden files
                    modified = item["LastModified"].astimezone(UTC)
                    found.append(Delivery(item["Key"], normalize_etag(item["ETag"]), item["Size"], modified))
        return found

    def rejected_key(self, key: str) -> str:
        return f"{self.rejected_prefix}{self.quarantine_name(key)}"

    def rejection(self, key: str) -> Rejection | None:
        reason_key = f"{self.rejected_key(key)}{REASON_SUFFIX}"
        with self._errors("read", f"s3://{self.bucket}/{reason_key}"):
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=reason_key)["Body"].read()
            except self.client.exceptions.NoSuchKey:
                return None
        return parse_reason(body.decode(errors="replace"))

    def download(self, delivery: Delivery, dest: Path) -> Delivery | None:
        with self._errors("read", self.shown(delivery.key)):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=delivery.key)
            except self.client.exceptions.NoSuchKey:
                return None
            with dest.open("wb") as sink:
                for chunk in response["Body"].iter_chunks(1024 * 1024):
                    sink.write(chunk)
        return Delivery(
            delivery.key,
            normalize_etag(response["ETag"]),
            response["ContentLength"],
            response["LastModified"].astimezone(UTC),
            response.get("VersionId"),
        )

    def quarantine(self, delivery: Delivery, local: Path, reason_document: str) -> None:
        target = self.rejected_key(delivery.key)
        source = {"Bucket": self.bucket, "Key": delivery.key}
        if delivery.version_id:
            source["VersionId"] = delivery.version_id  # the very bytes that were validated
        with self._errors("write", f"s3://{self.bucket}/{target}"):
            try:
                self.client.copy_object(Bucket=self.bucket, Key=target, CopySource=source)
            except self.client.exceptions.NoSuchKey:  # deleted meanwhile: upload what was read
                self.client.upload_file(str(local), self.bucket, target)
            self.client.put_object(Bucket=self.bucket, Key=target + REASON_SUFFIX, Body=reason_document.encode())

    def has_copy(self, key: str) -> bool:
        target = self.rejected_key(key)
        with self._errors("read", f"s3://{self.bucket}/{target}"):
            listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=target, MaxKeys=1)
        return any(item["Key"] == target for item in listed.get("Contents", []))

    def delete(self, key: str, etag: str) -> bool:
        from botocore.exceptions import ClientError

        with self._errors("delete", self.shown(key)):
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                if str(error.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise
            if normalize_etag(head["ETag"]) != etag:
                return False
            # In a versioned bucket this adds a delete marker: the bucket's own lifecycle rules decide the rest.
            self.client.delete_object(Bucket=self.bucket, Key=key)
        return True
