"""scripts/bootstrap_s3.py against moto's S3 server: bucket settings, and idempotence."""

from __future__ import annotations

import pytest

from scripts.bootstrap_s3 import bootstrap_bucket

pytestmark = pytest.mark.s3


def test_new_bucket_gets_versioning_public_block_and_lifecycle(s3) -> None:
    assert bootstrap_bucket("fresh-bucket", endpoint_url=s3.endpoint) == [
        "created",
        "versioning enabled",
        "public access blocked",
        "lifecycle rule added",
    ]
    client = s3.client
    assert client.get_bucket_versioning(Bucket="fresh-bucket")["Status"] == "Enabled"
    block = client.get_public_access_block(Bucket="fresh-bucket")["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    rules = client.get_bucket_lifecycle_configuration(Bucket="fresh-bucket")["Rules"]
    assert rules[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_second_run_changes_nothing(s3) -> None:
    """The fixture already bootstrapped the project's bucket: a re-run reports no change."""
    assert bootstrap_bucket("dvc-exemplar", endpoint_url=s3.endpoint) == []
