"""`retrain ingest` under faults: SIGKILL at each point of a run, then a re-run; the landing unreachable or denied.

Whatever happens, every good delivery ends up ingested exactly once (one batch per delivery on origin's ingest
branch, its data in the DVC remote), every bad one quarantined with its reason, nothing half-made committed or
pushed, and no delivery lost (the landing keeps every original).
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
import requests
import yaml

from tests.helpers import S3_BUCKET, S3_ENV, Project
from tests.helpers.consistency import LocalStore, assert_consistent
from tests.helpers.harness import ControlledS3, assert_failed, kill_when, repo_state, retrain
from tests.helpers.landing import FolderLanding, S3Landing, backdate_records, delivery, merge_on_origin
from tests.helpers.templates import Batch

pytestmark = pytest.mark.faults

BRANCH = "ingest/landing"
GOOD = ("2025-03-02-a.csv", "2025-03-03-b.csv")
BAD = "2025-03-04-bad.csv"
STEPS = [
    "[4/9] validate ...",  # after the download
    "[5/9] quarantine refused deliveries ...",
    "[6/9] push data to the DVC remote ...",
    "[7/9] commit ...",  # after dvc push
    "[8/9] push to origin ...",  # after the commit
    "[9/9] report ...",  # after the branch push, before CI opens the pull request
]


def records(project: Project, rev: str) -> list[tuple[str, str]]:
    """(key, etag) of every ingest record at `rev` on origin: one per delivery ingested."""
    specs = [yaml.safe_load(text) for text in _dvc_files(project, rev)]
    return sorted((spec["meta"]["ingest"]["key"], spec["meta"]["ingest"]["etag"]) for spec in specs if "meta" in spec)


def _dvc_files(project: Project, rev: str) -> list[str]:
    names = project.origin_git("ls-tree", "--name-only", rev, "data/raw/").split()
    return [project.origin_git("show", f"{rev}:{name}") for name in names if name.endswith(".dvc")]


def assert_branch_complete(project: Project, rev: str) -> None:
    """Every batch the ingest branch names is in the DVC remote (data is pushed before any commit)."""
    store = LocalStore(project.storage)
    for text in _dvc_files(project, rev):
        md5 = yaml.safe_load(text)["outs"][0]["md5"]
        assert store.has(md5), f"{rev} names {md5}, which is not in the remote"


@pytest.fixture
def landing(released: Project, tmp_path: Path) -> FolderLanding:
    """The landing after a first ingest (one delivery already recorded on origin), then three good, one bad and
    one duplicate delivery."""
    found = FolderLanding(tmp_path / "drops" / "landing")
    found.put("2025-03-01-old.csv", delivery(30, seed=1))
    first = retrain(released, "ingest", found.source, "--push")
    assert first.returncode == 0, first.describe()
    found.put(GOOD[0], delivery(30, seed=2))
    found.put(GOOD[1], delivery(30, seed=3))
    found.put(BAD, delivery(30, seed=4, bad_label_at=9))
    found.put("2025-03-05-copy.csv", delivery(30, seed=2))
    return found


@pytest.mark.parametrize("step", STEPS, ids=[step.split("]")[0][1:].replace("/", "-of-") for step in STEPS])
def test_sigkill_at_each_point_then_rerun_ingests_each_delivery_once(step: str, released: Project, landing):
    before = released.origin_git("rev-parse", BRANCH)

    kill_when(released, step, "ingest", landing.source, "--push")

    now = released.origin_git("rev-parse", BRANCH)
    assert now == before or step.startswith("[9/"), "origin's branch moved before the push step"
    assert_branch_complete(released, now)
    local = released.git("rev-parse", BRANCH)
    assert_branch_complete(released, local) if local == now else None
    assert_consistent(released, released.storage)

    rerun = retrain(released, "ingest", landing.source, "--push")

    assert rerun.returncode == 0, rerun.describe()
    keys = [key for key, _ in records(released, BRANCH)]
    assert keys == ["2025-03-01-old.csv", *GOOD], "each good delivery ingested exactly once"
    assert_branch_complete(released, BRANCH)
    assert (landing.rejected / f"{BAD}.reason.yaml").read_text().startswith(f"reason: '{landing.source}/{BAD}:")
    assert len(list(landing.path.iterdir())) == 5, "no delivery removed from the landing"
    summary = json.loads((released.root / "reports/ingest.json").read_text())
    assert len(summary["pending_batches"]) == 3, "what the pull request step opens (the PR step may never have run)"
    assert released.origin_git("rev-parse", BRANCH) == released.git("rev-parse", BRANCH)

    third = retrain(released, "ingest", landing.source, "--push")
    assert third.returncode == 0 and third.last_stdout.startswith("ingest: nothing new"), third.describe()
    assert released.origin_git("rev-parse", BRANCH) == released.git("rev-parse", BRANCH)


@pytest.mark.parametrize("step", ["[8/9] push to origin ...", "[2/9] pull what is needed, reproduce ...", "[7/9] tag"])
def test_sigkill_in_release_mode_then_rerun_releases_once(step: str, released: Project, good_batch: Batch, tmp_path):
    landing = FolderLanding(tmp_path / "drops" / "landing")
    landing.put("2025-03-01.csv", good_batch.content)

    kill_when(released, step, "ingest", landing.source, "--release", "--push")
    assert_consistent(released, released.storage)
    rerun = retrain(released, "ingest", landing.source, "--release", "--push")

    assert rerun.returncode == 0, rerun.describe()
    assert rerun.last_stdout.endswith("model@v1.1.0"), rerun.describe()
    assert set(released.origin_tags()) == {"model@v1.0.0", "model@v1.1.0"}
    assert [key for key, _ in records(released, "develop")] == ["2025-03-01.csv"], "ingested once"
    assert_consistent(released, released.storage, settled=True)


def test_files_an_interrupted_release_mode_ingest_left_uncommitted_are_removed(released: Project, tmp_path):
    raw = released.root / "data" / "raw"
    leftover = "batch-0001-20250301T000000Z-landing-x.csv"
    (raw / leftover).write_bytes(b"half")
    (raw / f"{leftover}.dvc").write_text("outs:\n- md5: " + "0" * 32 + f"\n  path: {leftover}\nmeta:\n  ingest: {{}}\n")
    landing = FolderLanding(tmp_path / "drops" / "landing")
    result = retrain(released, "ingest", landing.source)
    assert result.returncode == 0, result.describe()
    assert f"removed data/raw/{leftover}.dvc: left uncommitted by an interrupted ingest" in result.stderr
    assert not (raw / leftover).exists() and not (raw / f"{leftover}.dvc").exists()


def _s3_landing_env(project: Project, endpoint: str) -> None:
    """The landing on moto while the DVC remote stays local: the landing takes S3 settings from the environment."""
    project.env.update(S3_ENV)
    project.env["AWS_ENDPOINT_URL"] = endpoint
    empty = project.root.parent / "aws-config-empty"
    empty.touch()
    project.env.update(AWS_SHARED_CREDENTIALS_FILE=str(empty), AWS_CONFIG_FILE=str(empty))
    project.env["AWS_EC2_METADATA_DISABLED"] = "true"


def test_landing_unreachable_exits_1_naming_it_and_changes_nothing(released: Project, s3, own_s3: ControlledS3):
    landing = S3Landing(s3)
    landing.put("2025-03-01.csv", delivery(30, seed=1))
    _s3_landing_env(released, own_s3.endpoint)
    own_s3.stop()
    before = repo_state(released)

    result = retrain(released, "ingest", landing.source, "--push")

    assert_failed(result, 1, f"the landing {landing.source} is not reachable at {own_s3.endpoint}", "nothing was")
    assert repo_state(released) == before and released.git("branch", "--list", "ingest/*") == ""
    own_s3.start()
    assert retrain(released, "ingest", landing.source, "--push").returncode == 0


class Iam:
    """moto's IAM: users allowed only some actions; `enforce()` makes moto check every request's key and policy."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.client = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")

    def user(self, name: str, actions: list[str]) -> dict[str, str]:
        self.client.create_user(UserName=name)
        statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
        document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        self.client.put_user_policy(UserName=name, PolicyName="ingest", PolicyDocument=document)
        key = self.client.create_access_key(UserName=name)["AccessKey"]
        return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}

    def enforce(self, on: bool = True) -> None:
        requests.post(
            f"{self.endpoint}/moto-api/reset-auth", data=b"0" if on else b"inf", timeout=10
        ).raise_for_status()


@pytest.fixture
def iam(s3):
    found = Iam(s3.endpoint)
    try:
        yield found
    finally:
        found.enforce(False)


def test_landing_denied_exits_2_naming_it_and_changes_nothing(released: Project, s3, iam: Iam):
    landing = S3Landing(s3)
    landing.put("2025-03-01.csv", delivery(30, seed=1))
    landing.put("2025-03-02-bad.csv", delivery(30, seed=2, bad_label_at=3))
    nobody = iam.user("nobody", ["s3:GetBucketLocation"])
    reader = iam.user("reader", ["s3:ListBucket", "s3:GetObject"])
    ingester = iam.user("ingest", ["s3:ListBucket", "s3:GetObject", "s3:PutObject"])
    _s3_landing_env(released, s3.endpoint)
    released.env.update(nobody)
    before = repo_state(released)
    iam.enforce()

    denied = retrain(released, "ingest", landing.source, "--push")

    assert_failed(denied, 2, "access denied", f"list {landing.source}", "s3:ListBucket")
    assert repo_state(released) == before and released.git("branch", "--list", "ingest/*") == ""

    # Reading allowed, writing rejected/ not: stopped at the quarantine, before anything is recorded.
    released.env.update(reader)
    no_write = retrain(released, "ingest", landing.source, "--push")
    assert_failed(no_write, 2, "access denied", f"write s3://{S3_BUCKET}/rejected/2025-03-02-bad.csv")
    assert repo_state(released) == before and released.git("branch", "--list", "ingest/*") == ""

    released.env.update(ingester)
    finished = retrain(released, "ingest", landing.source, "--push")
    assert finished.returncode == 0 and finished.last_stdout == "ingest: 1 ingested, 1 rejected", finished.describe()


def test_retention_denied_delete_exits_2_naming_the_permission_and_loses_nothing(released: Project, s3, iam: Iam):
    """release.ingest_retention_days set, the ingest role without s3:DeleteObject: the run does everything else,
    then stops at the first deletion with one line naming the permission; granted it, the next run deletes."""
    landing = S3Landing(s3)
    released.set_param("release", "ingest_retention_days", 7)
    released.git("push", "--quiet", "origin", "develop")
    landing.put("2025-03-01.csv", delivery(30, seed=1))
    ingester = iam.user("ingest", ["s3:ListBucket", "s3:GetObject", "s3:PutObject"])
    deleter = iam.user("ingest-retention", ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"])
    _s3_landing_env(released, s3.endpoint)
    released.env.update(ingester)
    assert retrain(released, "ingest", landing.source, "--push").returncode == 0
    merge_on_origin(released, "ingest/dvc-exemplar-landing")
    backdate_records(released, "develop", days=8)
    landing.put("2025-03-02.csv", delivery(30, seed=2))

    iam.enforce()  # the test's own S3 calls (put, list) are not the role's: checked with it off
    denied = retrain(released, "ingest", landing.source, "--push")
    iam.enforce(False)

    assert_failed(denied, 2, "access denied", f"delete {landing.source}2025-03-01.csv", "s3:DeleteObject")
    assert "ingest: 1 ingested" in denied.stdout, "the rest of the run is done and reported"
    assert landing.names() == ["2025-03-01.csv", "2025-03-02.csv"]
    assert [key for key, _ in records(released, "ingest/dvc-exemplar-landing")] == [
        "landing/2025-03-01.csv",
        "landing/2025-03-02.csv",
    ]

    released.env.update(deleter)
    iam.enforce()
    granted = retrain(released, "ingest", landing.source, "--push")
    iam.enforce(False)

    assert granted.returncode == 0, granted.describe()
    assert granted.last_stdout == "ingest: nothing new, 1 already ingested, 1 original(s) deleted"
    assert landing.names() == ["2025-03-02.csv"]
