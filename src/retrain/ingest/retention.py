"""Retention (release.ingest_retention_days): the originals a run may delete from the landing, deleted last.

Ingested ones count only by their record on origin's release branch (the local one without origin), i.e. merged,
not proposed; and only while the DVC remote holds their batch. Refused ones by their reason file, with the
quarantine copy beside it. Each is deleted only while the landing still holds the recorded version.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from retrain import gitops
from retrain.dvcops import Pipeline
from retrain.ingest import plan, record
from retrain.ingest import report as ingest_report
from retrain.ingest.landing import Landing
from retrain.ingest.plan import Delivery
from retrain.progress import Progress


def expire(
    root: Path,
    landing: Landing,
    pipeline: Pipeline,
    base: str,
    landing_now: list[Delivery],
    days: int,
    summary: ingest_report.Summary,
    progress: Progress,
) -> None:
    """Delete the originals past `days` from the landing (`landing_now`: all of it, as listed by this run)."""
    rev = gitops.resolve(root, f"origin/{base}" if gitops.has_remote(root) else f"refs/heads/{base}")
    released = record.read(root, [rev]).of_source(landing.url) if rev else []
    known = {(item.key, item.etag) for item in released}
    rejected: dict[str, tuple[str, str, datetime | None]] = {}
    for delivery in landing_now:
        if (delivery.key, delivery.etag) in known:
            continue  # recorded on the release branch: no reason file to read
        found = landing.rejection(delivery.key)
        if found and found.etag == delivery.etag and landing.has_copy(delivery.key):
            rejected[delivery.key] = (found.etag, found.reason, found.rejected)
    due = plan.expired(landing_now, released, rejected, plan.now(), days)
    stored = [item for item in due if item.batch]
    missing: set[str] = set()
    if stored:  # the batch's data must still be in the DVC remote: the original is its only other copy
        missing = {m.oid for m in pipeline.missing_in_remote([(i.batch or "", i.md5 or "") for i in stored])}
    for item in due:
        shown = landing.shown(item.key)
        if item.md5 in missing:
            progress.say(f"{shown}: kept: DVC remote `{pipeline.remote}` lacks {item.batch}")
        elif landing.delete(item.key, item.etag):
            summary.deleted.append((item, shown))
        else:
            progress.say(f"{shown}: kept: it changed in the landing since it was recorded (a new delivery)")
    progress.say(f"{len(summary.deleted)} original(s) deleted from {landing.url} ({days} days' retention)")
