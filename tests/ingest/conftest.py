"""Landing locations for the ingest tests: a folder beside the project, or a prefix in moto's bucket."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from pipeline.dataset import write_batch
from pipeline.digits import simulate_batch
from tests.helpers import S3_BUCKET, VENV_BIN, Project


def delivery(rows: int, seed: int, bad_label_at: int | None = None) -> bytes:
    """A delivery file's bytes: simulated digits, optionally an unknown label on file line `bad_label_at`."""
    frame = simulate_batch(rows, 0.0, seed)
    if bad_label_at is None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "delivery.csv"
            write_batch(frame, path)
            return path.read_bytes()
    frame = frame.astype("int64")
    frame.loc[bad_label_at - 2, "label"] = 12  # line 1 is the header
    return frame.to_csv(index=False).encode()


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.strip().splitlines()

    def describe(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout[-4000:]}\n--- stderr\n{self.stderr[-6000:]}"


def ingest(project: Project, source: str, *args: str) -> Run:
    result = project.sh(str(VENV_BIN / "retrain"), "ingest", source, *args, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    return Run(result.returncode, result.stdout, result.stderr)


def report(project: Project) -> dict:
    return json.loads((project.root / "reports/ingest.json").read_text())


def batches_on(project: Project, rev: str) -> dict[str, dict]:
    """batch path -> its .dvc file (parsed) at `rev`."""
    names = project.git("ls-tree", "--name-only", rev, "data/raw/").split()
    return {
        name.removesuffix(".dvc"): yaml.safe_load(project.git("show", f"{rev}:{name}"))
        for name in names
        if name.endswith(".dvc")
    }


class FolderLanding:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.source = str(path)
        self.rejected = path.parent / "rejected"
        path.mkdir(parents=True)

    def put(self, name: str, content: bytes) -> str:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        return name

    def rejected_files(self) -> dict[str, bytes]:
        if not self.rejected.is_dir():
            return {}
        return {str(p.relative_to(self.rejected)): p.read_bytes() for p in self.rejected.rglob("*") if p.is_file()}


class S3Landing:
    def __init__(self, s3, prefix: str = "landing/") -> None:
        self.s3 = s3
        self.prefix = prefix
        self.source = f"s3://{S3_BUCKET}/{prefix}"

    def put(self, name: str, content: bytes) -> str:
        self.s3.client.put_object(Bucket=S3_BUCKET, Key=self.prefix + name, Body=content)
        return self.prefix + name

    def rejected_files(self) -> dict[str, bytes]:
        keys = self.s3.keys("rejected/")
        return {
            key.removeprefix("rejected/"): self.s3.client.get_object(Bucket=S3_BUCKET, Key=key)["Body"].read()
            for key in keys
        }


@pytest.fixture
def folder_landing(project: Project) -> FolderLanding:
    return FolderLanding(project.root.parent / "drops" / "landing")


@pytest.fixture
def s3_landing(s3_project: Project, s3) -> S3Landing:
    return S3Landing(s3)


# The fault suite's released project (model@v1.0.0 on its own origin and local remote), copied per test.
from tests.faults.conftest import good_batch, released, template  # noqa: E402, F401
