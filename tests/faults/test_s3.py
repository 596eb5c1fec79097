"""Faults of the S3 remote (moto's server): down at the start, gone in the middle of `dvc push`, a member
object deleted after a push, credentials missing or wrong, the bucket missing.

The project starts released as model@v1.0.0 on the local remote, moved to `s3remote` with its objects
uploaded. Faults are made on a moto endpoint of the test's own (`own_s3`), which shares the bucket with
the session's server and can be stopped without losing it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

import boto3
import pytest
import requests

from tests.faults.conftest import point_at_s3
from tests.helpers import REPO_ROOT, S3_BUCKET, S3_ENV, Project, second_clone, sh
from tests.helpers.consistency import BucketStore, assert_consistent
from tests.helpers.harness import (
    ControlledS3,
    assert_failed,
    assert_finishes,
    assert_refused_before_compute,
    deliver,
    repo_state,
    retrain,
)
from tests.helpers.templates import Batch

pytestmark = [pytest.mark.faults, pytest.mark.s3]


def _unchanged_by_failure(project: Project, before: dict) -> None:
    after = repo_state(project)
    assert after["head"] == before["head"], "a commit was made"
    assert after["tags"] == before["tags"] and after["origin_tags"] == before["origin_tags"], "a tag was made"
    assert after["origin_develop"] == before["origin_develop"], "origin moved"


def test_s3_down_at_the_start(s3_released: Project, own_s3: ControlledS3, s3, good_batch: Batch) -> None:
    """S3 does not answer: exit 1 before any compute, naming the remote and the endpoint; nothing changed."""
    point_at_s3(s3_released, own_s3.endpoint)
    deliver(s3_released, good_batch.name, good_batch.content)
    own_s3.stop()
    assert_refused_before_compute(s3_released, 1, "`s3remote`", own_s3.endpoint, "not reachable", "Re-run")
    assert_consistent(s3_released, s3)

    own_s3.start()  # S3 is back, on the same endpoint
    assert_finishes(s3_released, s3, "released model@v1.1.0")


def test_s3_stopped_in_the_middle_of_dvc_push(s3_released: Project, own_s3: ControlledS3, s3) -> None:
    """S3 goes away while a 150k-row batch (~22 MB) is being uploaded: exit 1, no commit or tag, no partial
    object; when S3 is back the re-run uploads it whole and releases."""
    point_at_s3(s3_released, own_s3.endpoint)
    batch = s3_released.add_batch(rows=150_000, seed=12)
    content = batch.read_bytes()
    md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
    own_s3.cut_when(lambda env: env["REQUEST_METHOD"] == "PUT" and env["PATH_INFO"].endswith(md5[2:]))
    before = repo_state(s3_released)

    result = retrain(s3_released, "run", "--push")

    assert own_s3.cut_requests, "S3 was never cut off during the upload of the batch"
    assert_failed(result, 1, "dvc push to remote `s3remote` failed", "nothing was committed or tagged")
    _unchanged_by_failure(s3_released, before)
    assert not s3.has(md5), "a partial object of the batch is in the bucket"
    assert_consistent(s3_released, s3)

    own_s3.start()
    finished = assert_finishes(s3_released, s3, "released model@v1.1.0")
    assert "nothing changed: no stage ran" in finished.stderr, "the re-run recomputed what the first run made"
    stored = s3.client.get_object(Bucket=S3_BUCKET, Key=s3.object_key(md5))["Body"].read()
    assert hashlib.md5(stored, usedforsecurity=False).hexdigest() == md5


def test_member_object_deleted_from_the_bucket_after_a_push(
    s3_released: Project, s3, good_batch: Batch, tmp_path
) -> None:
    """The bucket lost a batch after the release: a fresh clone is stopped, naming the object (exit 1, nothing
    committed); the machine that has it repairs it by re-running."""
    deliver(s3_released, good_batch.name, good_batch.content)
    first = retrain(s3_released, "run", "--push")
    assert first.returncode == 0, first.describe()
    member = hashlib.md5(good_batch.content, usedforsecurity=False).hexdigest()
    s3.delete(member)
    with pytest.raises(AssertionError, match=member):  # the helper sees it too: the fault is real
        assert_consistent(s3_released, s3)

    fresh = second_clone(s3_released, tmp_path)
    fresh.env.update(s3_released.env)
    before = repo_state(fresh)
    result = retrain(fresh, "run", "--push")
    assert_failed(result, 1, "missing from remote `s3remote`", member, "Nothing was committed or tagged")
    assert repo_state(fresh)["head"] == before["head"] and fresh.tags() == before["tags"]

    # A batch is a file object of its own (one .dvc file per batch): the machine that has it repairs the bucket,
    # through `dvc push`, which checks file objects one by one (a directory's members it would trust to its .dir).
    assert_finishes(s3_released, s3, "up to date: model@v1.1.0")
    assert s3.has(member)
    assert_finishes(fresh, s3, "up to date: model@v1.1.0")


def test_credentials_missing(s3_released: Project, s3, good_batch: Batch) -> None:
    deliver(s3_released, good_batch.name, good_batch.content)
    keys = {key: s3_released.env.pop(key) for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    assert_refused_before_compute(s3_released, 2, "no AWS credentials", "`s3remote`", "AWS_ACCESS_KEY_ID")
    assert_consistent(s3_released, s3)
    s3_released.env.update(keys)
    assert_finishes(s3_released, s3, "released model@v1.1.0")


@pytest.fixture
def iam_enforced(s3) -> dict[str, str]:
    """moto checks every request's signature and IAM policy; yields a valid key of user `retrain-ci`."""
    iam = boto3.client("iam", endpoint_url=s3.endpoint, region_name="us-east-1")
    iam.create_user(UserName="retrain-ci")
    iam.put_user_policy(
        UserName="retrain-ci",
        PolicyName="dvc-remote",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName="retrain-ci")["AccessKey"]
    requests.post(f"{s3.endpoint}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()
    try:
        yield {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    finally:
        requests.post(f"{s3.endpoint}/moto-api/reset-auth", data=b"inf", timeout=10).raise_for_status()


def _auth(s3, enforced: bool) -> None:
    requests.post(f"{s3.endpoint}/moto-api/reset-auth", data=b"0" if enforced else b"inf", timeout=10)


def test_credentials_wrong(s3_released: Project, s3, good_batch: Batch, iam_enforced: dict[str, str]) -> None:
    """A key S3 does not know: exit 2 'access denied', before any compute; the right key finishes the job."""
    deliver(s3_released, good_batch.name, good_batch.content)
    s3_released.env.update(AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY="wrong" * 8)
    assert_refused_before_compute(s3_released, 2, "access denied", f"bucket `{S3_BUCKET}`", "`s3remote`")
    _auth(s3, enforced=False)  # the test's own client reads the bucket with the moto default key
    assert_consistent(s3_released, s3)
    _auth(s3, enforced=True)

    s3_released.env.update(iam_enforced)
    result = retrain(s3_released, "run", "--push")
    assert result.returncode == 0 and result.last_stdout == "released model@v1.1.0", result.describe()
    _auth(s3, enforced=False)
    assert_consistent(s3_released, s3, settled=True)


def test_bucket_missing(released: Project, s3) -> None:
    """The remote names a bucket nobody created: exit 2 with the command that creates it; after running
    that command the re-run uploads the release there."""
    bucket = "retrain-faults-new"
    point_at_s3(released, s3.endpoint)
    released.dvc("remote", "modify", "--local", "s3remote", "url", f"s3://{bucket}/artifact-versioning")
    before = repo_state(released)

    result = retrain(released, "run", "--push")

    last = assert_failed(result, 2, f"bucket `{bucket}`", "does not exist", "`s3remote`")
    assert f"python scripts/bootstrap_s3.py {bucket}" in last
    assert repo_state(released) == before
    sh(
        [sys.executable, "scripts/bootstrap_s3.py", bucket, "--endpoint-url", s3.endpoint],
        REPO_ROOT,
        {**os.environ, **S3_ENV},
    )
    assert_finishes(released, BucketStore(s3, bucket), "up to date: model@v1.0.0")
