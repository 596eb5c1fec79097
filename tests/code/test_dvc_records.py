"""dvcfiles.batch_record reads a batch's .dvc file line by line (a run reads thousands): it must agree with the YAML
parser on every file it accepts, and hand the rest to it."""

from __future__ import annotations

import pytest
import yaml

from retrain import dvcfiles

TRICKY = [
    "landing/2025/03/01.csv",
    "landing/it's.csv",
    "landing/a: b.csv",
    "landing/#hash.csv",
    "landing/x #comment.csv",
    'landing/"quoted".csv',
    "landing/é ü 中.csv",
    "landing/" + "long-" * 60 + ".csv",
    "- dash",
    "true",
    "123",
    "null",
    "",
    " leading space",
    "trailing space ",
    "multi\nline",
    "{flow}",
    "[list]",
    "&anchor",
    "*alias",
    "|block",
    "%percent",
    "@at",
    "`tick`",
    "!tag",
]


def record(key: str) -> dict:
    return {
        "source": "s3://bucket/landing/",
        "key": key,
        "etag": "0cc175b9c0f1b6a831c399e269772661",
        "version_id": None,
        "size": 12,
        "delivered": "2025-03-01T12:00:00Z",
        "ingested": "2025-03-01T12:05:00Z",
        "listed_through": key,
    }


def by_yaml(text: str) -> tuple[str | None, dict | None]:
    document = yaml.safe_load(text)
    return document["outs"][0]["md5"], (document.get("meta") or {}).get("ingest")


@pytest.mark.parametrize("key", TRICKY, ids=range(len(TRICKY)))
def test_agrees_with_yaml_on_what_ingest_writes(key: str) -> None:
    text = dvcfiles.batch_dvc_file("batch-0001-x.csv", "a" * 32, 12, {"ingest": record(key)})
    md5, ingest = dvcfiles.batch_record(text)
    expected_md5, expected = by_yaml(text)
    assert md5 == expected_md5 == "a" * 32
    assert ingest is not None and {k: str(v) if v is not None else None for k, v in expected.items()} == {
        k: str(v) if v is not None else None for k, v in ingest.items()
    }
    assert ingest["key"] == key


def test_files_written_by_hand_or_by_dvc_are_read_too() -> None:
    by_hand = "outs:\n- md5: " + "b" * 32 + "\n  size: 4\n  hash: md5\n  path: x.csv\n"
    assert dvcfiles.batch_record(by_hand) == ("b" * 32, None)
    flow = "outs:\n- {md5: " + "c" * 32 + ", path: x.csv}\nmeta:\n  ingest: {key: k, etag: e, source: s}\n"
    assert dvcfiles.batch_record(flow) == ("c" * 32, {"key": "k", "etag": "e", "source": "s"})
    wrapped = yaml.safe_dump({"outs": [{"md5": "d" * 32}], "meta": {"ingest": record("landing/" + "w " * 80)}})
    assert dvcfiles.batch_record(wrapped)[1]["key"] == "landing/" + "w " * 80
    other_meta = "outs:\n- md5: " + "e" * 32 + "\nmeta:\n  owner: team\n"
    assert dvcfiles.batch_record(other_meta) == ("e" * 32, None)
