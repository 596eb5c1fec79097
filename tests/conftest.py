"""Fixtures shared by every test: project sandboxes on real git and DVC, and a real S3 API (moto's server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests

from tests.helpers import (
    S3_BUCKET,
    S3_ENV,
    Project,
    bootstrap_s3,
    built_once,
    clone_project,
    dvcapi,
    make_seed_origin,
    s3_credentials,
)
from tests.helpers.templates import Batch, Template, build_released, copy_project, load_released


@pytest.fixture(scope="session")
def seed_origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_seed_origin(tmp_path_factory.mktemp("seed"))


@pytest.fixture
def project(seed_origin: Path, tmp_path: Path) -> Project:
    """A fresh clone of the project with its own bare origin and local DVC remote; no data yet."""
    return clone_project(seed_origin, tmp_path)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 (a free port); yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_server: str) -> Iterator[S3]:
    """An empty moto S3 with the project's bucket made by scripts/bootstrap_s3.py."""
    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    with s3_credentials():
        bootstrap_s3(moto_server)
        yield S3(moto_server)


class S3:
    """The test's view of the bucket, through boto3."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.client = boto3.client("s3", endpoint_url=endpoint, **_credentials())

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def object_key(self, md5: str) -> str:
        """Where DVC 3 stores an object in the s3remote (s3://dvc-exemplar/artifact-versioning)."""
        return f"artifact-versioning/files/md5/{md5[:2]}/{md5[2:]}"

    def has(self, md5: str) -> bool:
        return self.object_key(md5) in set(self.keys("artifact-versioning/files/md5/"))

    def delete(self, md5: str) -> None:
        key = self.object_key(md5)
        versions = self.client.list_object_versions(Bucket=S3_BUCKET, Prefix=key).get("Versions", [])
        for version in versions:
            self.client.delete_object(Bucket=S3_BUCKET, Key=key, VersionId=version["VersionId"])
        self.client.delete_object(Bucket=S3_BUCKET, Key=key)


def _credentials() -> dict:
    return {
        "aws_access_key_id": S3_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": S3_ENV["AWS_SECRET_ACCESS_KEY"],
        "region_name": S3_ENV["AWS_DEFAULT_REGION"],
    }


@pytest.fixture(scope="session")
def template(seed_origin: Path, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Template:
    """One released project for the session, shared by the xdist workers (tests/helpers/templates.py)."""
    where = built_once(
        tmp_path_factory, worker_id, "released-template", lambda where: build_released(seed_origin, where)
    )
    return load_released(where)


@pytest.fixture
def released(template: Template, tmp_path: Path) -> Project:
    """A project released as model@v1.0.0 and pushed (to its own origin and local DVC remote), the test's own copy
    of the session's template: what `retrain run --push` makes of a fresh `project`, without training again."""
    return copy_project(template.project, tmp_path / "project")


@pytest.fixture
def good_batch(template: Template) -> Batch:
    """A valid delivery whose pipeline run is in the template's run-cache."""
    return template.good


@pytest.fixture
def other_batch(template: Template) -> Batch:
    """Another clone's delivery, in the run-cache alone and together with `good_batch`."""
    return template.other


@pytest.fixture
def s3_project(project: Project, s3: S3) -> Project:
    """The project using `s3remote` on moto's server, set the DVC way (endpointurl in config.local)."""
    return on_s3(project, s3)


def on_s3(project: Project, s3: S3) -> Project:
    """`project` (any with an `s3remote` in .dvc/config) reading and writing moto's server."""
    dvcapi.modify_remote(project.root, "s3remote", "endpointurl", s3.endpoint)
    project.env.update(S3_ENV)
    project.env["RETRAIN_REMOTE"] = "s3remote"
    return project


@pytest.fixture(autouse=True, scope="session")
def _quiet_moto_access_log() -> None:
    """moto's server logs every request at INFO; failures are easier to read without it."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
