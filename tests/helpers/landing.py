"""Deliveries and landing locations (a folder beside the project, or a prefix in moto's bucket), and `retrain ingest`
run the way a user runs it: shared by the ingest, fault and CI suites."""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def merge_on_origin(project: Project, branch: str, squash: bool = False) -> None:
    """What GitHub's merge button does, from the developer's clone: merge the ingest branch into develop, push."""
    project.git("fetch", "--quiet", "origin")
    project.git("checkout", "--quiet", "develop")
    project.git("reset", "--quiet", "--hard", "origin/develop")
    if squash:
        project.git("merge", "--quiet", "--squash", f"origin/{branch}")
        project.git("commit", "--quiet", "-m", "Ingested data (#1)")
    else:
        project.git("merge", "--quiet", "--no-ff", "-m", "Merge pull request #1", f"origin/{branch}")
    project.git("push", "--quiet", "origin", "develop")


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


INGESTED_LINE = re.compile(r"^(    ingested: ).*$", re.MULTILINE)


def backdate_records(project: Project, branch: str, days: int) -> None:
    """Rewrite every ingest record on origin's `branch` as if ingested `days` ago (a commit pushed from another
    clone): the honest way to make records old, since the engine reads the time from the record."""
    other = project.root.parent / f"backdate-{branch.replace('/', '-')}"
    project.sh("git", "clone", "--quiet", "--branch", branch, str(project.origin), str(other))
    for dvc_file in (other / "data/raw").glob("*.dvc"):
        dvc_file.write_text(INGESTED_LINE.sub(rf"\g<1>'{days_ago(days)}'", dvc_file.read_text()))
    project.sh("git", "commit", "--quiet", "-am", f"test: ingest records {days} days old", cwd=other)
    project.sh("git", "push", "--quiet", "origin", branch, cwd=other)
    project.sh("rm", "-rf", str(other))


def backdated_reason(text: bytes, days: int) -> bytes:
    """A reason file whose refusal happened `days` ago."""
    return re.sub(rb"^rejected: .*$", f"rejected: '{days_ago(days)}'".encode(), text, flags=re.MULTILINE)


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

    def names(self) -> list[str]:
        return sorted(str(p.relative_to(self.path)) for p in self.path.rglob("*") if p.is_file())

    def backdate_rejection(self, name: str, days: int) -> None:
        reason = self.rejected / f"{name}.reason.yaml"
        reason.write_bytes(backdated_reason(reason.read_bytes(), days))


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

    def names(self) -> list[str]:
        return [key.removeprefix(self.prefix) for key in self.s3.keys(self.prefix)]

    def backdate_rejection(self, name: str, days: int) -> None:
        key = f"rejected/{name}.reason.yaml"
        text = self.s3.client.get_object(Bucket=S3_BUCKET, Key=key)["Body"].read()
        self.s3.client.put_object(Bucket=S3_BUCKET, Key=key, Body=backdated_reason(text, days))
