"""Fixtures of the fault suite beyond the shared released project (tests/conftest.py `released`, built once per
session by tests/helpers/templates.py and copied for each test): the project on moto's S3, and an S3 endpoint of
the test's own that it may stop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import S3_ENV, Project, dvcapi
from tests.helpers.harness import ControlledS3


@pytest.fixture
def s3_released(released: Project, s3) -> Project:
    """The released project on `s3remote` (moto), its release's objects uploaded to the bucket."""
    point_at_s3(released, s3.endpoint)
    released.dvc("push", "-r", "s3remote")
    return released


def point_at_s3(project: Project, endpoint: str) -> None:
    dvcapi.modify_remote(project.root, "s3remote", "endpointurl", endpoint)
    project.env.update(S3_ENV)
    project.env["RETRAIN_REMOTE"] = "s3remote"
    # No credentials from the host machine may leak in (a test removes the keys to see them missing).
    empty = project.root.parent / "aws-config-empty"
    empty.touch()
    project.env["AWS_SHARED_CREDENTIALS_FILE"] = str(empty)
    project.env["AWS_CONFIG_FILE"] = str(empty)
    project.env["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture
def own_s3(s3) -> Iterator[ControlledS3]:
    """A moto S3 endpoint of this test's own (same bucket and objects as `s3`), which the test may stop."""
    server = ControlledS3().start()
    try:
        yield server
    finally:
        server.stop()
