"""Fixtures of the release suite beyond the shared ones (tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.conftest import S3, on_s3
from tests.helpers import Project


@pytest.fixture
def s3_released(released: Project, s3: S3) -> Project:
    """The released project on `s3remote` (moto): its release's objects and run-cache in the bucket, as a release
    made on s3remote leaves them."""
    on_s3(released, s3)
    released.dvc("push", "--quiet", "--run-cache", "-r", "s3remote")
    return released
