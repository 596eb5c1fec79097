"""What git says was ingested: every batch's .dvc file at one or more revisions, read in one `git cat-file` call.

The record is read whole, so that a delivery is recognised whatever the listing shows: one `git cat-file` process
for every .dvc file, each read line by line (dvcfiles.batch_record), local and without a YAML parser, so that
thousands of batches cost a fraction of a second (benchmarks/ingest-results.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrain import dvcfiles, gitops, rawdata
from retrain.ingest.plan import Record, parse_time
from retrain.rawdata import DVC_SUFFIX

INGEST_META = dvcfiles.INGEST_META


@dataclass(frozen=True)
class Tree:
    """The batches at some revisions (their union): names, content hashes and ingest records."""

    batches_by_md5: dict[str, str]  # md5 -> batch path
    records: list[Record]
    names: list[str]  # every batch path

    def of_source(self, source: str) -> list[Record]:
        return [record for record in self.records if record.source == source]


def batch_folder(root: Path) -> str:
    from retrain import project

    return project.load(root).raw.folder


def dvc_entries(root: Path, revs: list[str], folder: str | None = None) -> dict[str, str]:
    """.dvc path -> blob of the batches at each revision (union; a later revision wins for the same path)."""
    folder = folder or batch_folder(root)
    entries: dict[str, str] = {}
    for rev in revs:
        found = gitops.tree_entries(root, rev, folder)
        entries.update({path: blob for path, blob in found.items() if path.endswith(DVC_SUFFIX)})
    return entries


def read(root: Path, revs: list[str]) -> Tree:
    """Every batch at `revs`, partitions' members included (their records moved into the partition's .dvc file)."""
    folder = batch_folder(root)
    entries = dvc_entries(root, revs, folder)
    texts = gitops.read_blobs(root, sorted(set(entries.values())))
    files = sorted(rawdata.batch_files(folder, {path: texts[blob] for path, blob in entries.items()}), key=_by_name)
    by_md5: dict[str, str] = {}
    records: list[Record] = []
    for raw in files:
        by_md5.setdefault(raw.md5, raw.name)
        if (record := to_record(raw.name, raw.md5, raw.ingest)) is not None:
            records.append(record)
    return Tree(by_md5, records, sorted({raw.name for raw in files}))


def _by_name(raw: rawdata.RawFile) -> str:
    return raw.name


def to_record(batch: str, md5: str | None, meta: object) -> Record | None:
    """A batch's ingest record, or None for a batch added by hand (no `meta: ingest:`) or an unreadable one."""
    if not isinstance(meta, dict) or not md5:
        return None
    try:
        return Record(
            batch=batch,
            md5=md5,
            source=str(meta["source"]),
            key=str(meta["key"]),
            etag=str(meta["etag"]),
            listed_through=str(meta["listed_through"]) if meta.get("listed_through") else None,
            ingested=parse_time(meta.get("ingested")),
        )
    except KeyError:
        return None


def meta(
    source: str,
    key: str,
    etag: str,
    version_id: str | None,
    size: int,
    delivered: str,
    ingested: str,
    listed_through: str,
    replaces: str | None,
) -> dict[str, Any]:
    """The `meta:` of a new batch's .dvc file: the ingest record, in the order a reviewer reads it."""
    record = {
        "source": source,
        "key": key,
        "etag": etag,
        "version_id": version_id,
        "size": size,
        "delivered": delivered,
        "ingested": ingested,
        "listed_through": listed_through,
    }
    if replaces:
        record["replaces"] = replaces  # the key changed: this is a new delivery after that batch
    return {INGEST_META: record}
