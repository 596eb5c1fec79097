"""Ingest's decisions as pure functions (no git, no DVC, no S3): unit-tested on their own.

A delivery is identified by its key and its ETag (a folder's file: size and modification time), so a file that
changes under the same key is a new delivery. What was ingested is recorded in git, in each batch's .dvc file
(`meta: ingest:`); deliveries that were refused are recorded beside the landing, by their reason file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from retrain.untrusted import safe_for_commit

BATCH_PREFIX = "batch-"
BATCH_SUFFIX = ".csv"
STEM_MAX = 60  # characters of the delivery's own name kept in a batch name (file names stay short)
BRANCH_PREFIX = "ingest/"
MD5 = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Delivery:
    """One object in the landing, as listed (and, once read, as downloaded)."""

    key: str  # the S3 key (prefix included), or the path relative to the landing folder
    etag: str  # without quotes; a folder's file: "<size>-<mtime_ns>"
    size: int
    modified: datetime  # UTC
    version_id: str | None = None


@dataclass(frozen=True)
class Record:
    """What git holds about one ingested delivery: its batch's .dvc file `meta: ingest:`."""

    batch: str  # <batch folder>/batch-....csv
    md5: str
    source: str
    key: str
    etag: str
    listed_through: str | None = None  # the landing had been listed up to this key when the batch was recorded
    ingested: datetime | None = None  # when it was recorded (None: unreadable, so never old enough to delete)


class Status(Enum):
    INGESTED = "ingested"
    REJECTED = "rejected"
    ALREADY_INGESTED = "already ingested"
    ALREADY_REJECTED = "already rejected"
    DUPLICATE = "duplicate"  # same bytes as a batch already ingested (under another key)
    NOT_READ = "not read"  # deleted between listing and reading, or still being written: the next run looks again


NEW_STATUSES = (Status.INGESTED, Status.REJECTED)


@dataclass
class Outcome:
    """What became of one delivery in this run."""

    delivery: Delivery
    status: Status | None = None  # None: new, not decided yet
    batch: str | None = None  # the batch it became (ingested) or already is (already ingested, duplicate)
    reason: str | None = None  # why it was refused (rejected, already rejected)
    replaces: str | None = None  # the batch of an earlier delivery under the same key (it changed)
    md5: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def normalize_etag(etag: str) -> str:
    return etag.strip().strip('"')


def marker(records: Iterable[Record], source: str) -> str | None:
    """The greatest key the landing had been listed through, as recorded for `source`."""
    keys = [record.listed_through or record.key for record in records if record.source == source]
    return max(keys, default=None)


def listing_start(last: str | None) -> str | None:
    """Where to start listing (exclusive, as S3's StartAfter): just before the marker, so that the last key recorded
    is listed again (the one most likely to be re-delivered under its name) and every key after it."""
    return last[:-1] if last else None


def unrecorded(listed: Sequence[Delivery], records: Iterable[Record]) -> list[Delivery]:
    """Listed deliveries git does not record (same key and ETag): the only ones whose reason file is worth reading."""
    known = {(record.key, record.etag) for record in records}
    return [delivery for delivery in listed if (delivery.key, delivery.etag) not in known]


def triage(
    listed: Sequence[Delivery],
    records: Iterable[Record],
    rejected: Mapping[str, tuple[str, str]],
    batches_by_md5: Mapping[str, str],
) -> list[Outcome]:
    """Sort listed deliveries into already ingested / already rejected / duplicate (by an ETag that is an MD5) / new;
    a new delivery under a recorded key names the batch it follows. `rejected`: key -> (etag, reason)."""
    by_key: dict[str, list[Record]] = {}
    for record in records:
        by_key.setdefault(record.key, []).append(record)
    outcomes = []
    for delivery in sorted(listed, key=lambda item: item.key):
        earlier = sorted(by_key.get(delivery.key, []), key=lambda record: record.batch)
        outcome = Outcome(delivery)
        same = [record for record in earlier if record.etag == delivery.etag]
        if same:
            outcome.status, outcome.batch = Status.ALREADY_INGESTED, same[-1].batch
        elif delivery.key in rejected and rejected[delivery.key][0] == delivery.etag:
            outcome.status, outcome.reason = Status.ALREADY_REJECTED, rejected[delivery.key][1]
        elif MD5.match(delivery.etag) and delivery.etag in batches_by_md5:
            outcome.status, outcome.batch = Status.DUPLICATE, batches_by_md5[delivery.etag]
        elif earlier:
            outcome.replaces = earlier[-1].batch
        outcomes.append(outcome)
    return outcomes


@dataclass(frozen=True)
class Expired:
    """An original the retention option lets a run delete from the landing: what it is and why it may go."""

    key: str
    etag: str  # deleted only while the landing still holds this version
    since: datetime  # ingested (its record on the release branch) or rejected (its reason file)
    batch: str | None = None  # the batch holding its bytes (None: a refused delivery, kept in rejected/)
    md5: str | None = None
    reason: str | None = None  # why it was refused


def expired(
    listed: Sequence[Delivery],
    released: Iterable[Record],
    rejected: Mapping[str, tuple[str, str, datetime | None]],
    now: datetime,
    days: int,
) -> list[Expired]:
    """The originals due for deletion, `days` after they were dealt with: a delivery whose record (same key and
    ETag) is on the release branch and was ingested at least `days` ago, or one refused at least `days` ago whose
    quarantine copy and reason file (`rejected`: key -> (etag, reason, when), only those whose copy exists) name
    the very version in the landing. A changed object under a recorded key is a new delivery and is kept, and so
    is anything whose time is unknown."""
    cutoff = now - timedelta(days=days)
    by_version = {(record.key, record.etag): record for record in released if record.ingested is not None}
    due = []
    for delivery in sorted(listed, key=lambda item: item.key):
        found = by_version.get((delivery.key, delivery.etag))
        if found is not None and found.ingested is not None and found.ingested <= cutoff:
            due.append(Expired(delivery.key, delivery.etag, found.ingested, found.batch, found.md5))
            continue
        etag, reason, when = rejected.get(delivery.key, (None, None, None))
        if found is None and etag == delivery.etag and when is not None and when <= cutoff:
            due.append(Expired(delivery.key, delivery.etag, when, reason=reason))
    return due


def expired_line(item: Expired, shown_key: str, days: int) -> str:
    what = f"ingested as {item.batch}" if item.batch else "rejected, its copy and reason kept in rejected/"
    return f"{shown_key}: deleted from the landing ({what} on {iso(item.since)}, retention {days} days)"


def parse_time(value: object) -> datetime | None:
    """A recorded time (`2025-03-01T12:30:05Z`, or the datetime YAML makes of it); None when it is not one."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def slug(text: str, limit: int | None = None) -> str:
    """A file-name-safe form of `text`: letters, digits, dot, underscore and dash; runs of anything else as one dash."""
    cleaned = re.sub(r"[^A-Za-z0-9._]+", "-", text).strip("-.") or "x"
    return cleaned[:limit].rstrip("-.") if limit else cleaned


def source_label(bucket: str | None, prefix: str) -> str:
    """Where deliveries come from, for batch and branch names: `bucket-prefix` for S3, the folder's name else."""
    parts = [bucket] if bucket else []
    parts += [part for part in prefix.strip("/").split("/") if part][-2 if bucket else -1 :]
    return slug("-".join(parts), 40)


def branch_name(label: str) -> str:
    """The pull-request branch of one landing: runs add to it while its pull request is open."""
    return f"{BRANCH_PREFIX}{label}"


def next_number(names: Iterable[str]) -> int:
    """The number after the highest `batch-NNNN-...` of `names` (file names, with or without a folder)."""
    numbers = []
    for name in names:
        parts = name.rsplit("/", 1)[-1].split("-")
        if name.rsplit("/", 1)[-1].startswith(BATCH_PREFIX) and len(parts) > 1 and parts[1].isdigit():
            numbers.append(int(parts[1]))
    return max(numbers, default=-1) + 1


def batch_name(number: int, delivered: datetime, label: str, relative_key: str) -> str:
    """`batch-NNNN-<delivered, UTC>-<source>-<delivery name>.csv`: sorts in ingest order, says when and from where."""
    stem = relative_key[: -len(BATCH_SUFFIX)] if relative_key.endswith(BATCH_SUFFIX) else relative_key
    when = delivered.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{BATCH_PREFIX}{number:04d}-{when}-{label}-{slug(stem.replace('/', '_'), STEM_MAX)}{BATCH_SUFFIX}"


def exit_code(outcomes: Sequence[Outcome]) -> int:
    """0 done (nothing new included), 2 when every new delivery was refused."""
    new = [outcome for outcome in outcomes if outcome.status in NEW_STATUSES]
    return 2 if new and all(outcome.status is Status.REJECTED for outcome in new) else 0


def counts(outcomes: Sequence[Outcome]) -> dict[str, int]:
    found = {status.value: 0 for status in Status}
    for outcome in outcomes:
        if outcome.status is not None:
            found[outcome.status.value] += 1
    return found


def summary(outcomes: Sequence[Outcome]) -> str:
    """`ingest: 2 ingested, 1 rejected, 3 already ingested` (zero counts left out; `nothing new` alone)."""
    shown = [f"{number} {name}" for name, number in counts(outcomes).items() if number]
    if not any(outcome.status in NEW_STATUSES for outcome in outcomes):
        shown.insert(0, "nothing new")
    return "ingest: " + ", ".join(shown)


def line(outcome: Outcome, shown_key: str) -> str:
    """The one line a delivery gets in the output."""
    status = outcome.status
    if status is Status.INGESTED:
        changed = f" (changed under the same key: a new delivery after {outcome.replaces})" if outcome.replaces else ""
        return f"{shown_key}: ingested as {outcome.batch}{changed}"
    reason = (outcome.reason or "").removeprefix(f"{shown_key}: ")  # the reason file keeps the whole message
    if status is Status.REJECTED:
        return f"{shown_key}: rejected: {reason}"
    if status is Status.ALREADY_INGESTED:
        return f"{shown_key}: already ingested as {outcome.batch}"
    if status is Status.ALREADY_REJECTED:
        return f"{shown_key}: already rejected: {reason}"
    if status is Status.DUPLICATE:
        return f"{shown_key}: already ingested: same content as {outcome.batch}"
    if status is Status.NOT_READ:
        return f"{shown_key}: not read (gone from the landing, or still being written): the next run looks again"
    return f"{shown_key}: new"


def commit_message(url: str, ingested: Sequence[tuple[str, str, str]], trailer: str | None) -> str:
    """The ingest commit's message: a subject, one line per (shown key, ETag, batch), the engine's trailer if any.
    Keys and ETags come from outside: made safe for a commit (no skip instruction, no trailer of their own)."""
    subject = safe_for_commit(f"data: ingest {len(ingested)} delivery(ies) from {url}")
    body = [
        f"- {safe_for_commit(key)} (etag {safe_for_commit(etag)}) -> {safe_for_commit(batch)}"
        for key, etag, batch in ingested
    ]
    return "\n".join([subject, "", *body, *(["", trailer] if trailer else [])]) + "\n"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
