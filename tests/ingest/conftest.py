"""Fixtures of the ingest suite: the landing locations (tests/helpers/landing.py)."""

from __future__ import annotations

import pytest

from tests.helpers import Project
from tests.helpers.landing import FolderLanding, S3Landing


@pytest.fixture
def folder_landing(project: Project) -> FolderLanding:
    return FolderLanding(project.root.parent / "drops" / "landing")


@pytest.fixture
def s3_landing(s3_project: Project, s3) -> S3Landing:
    return S3Landing(s3)
