"""`retrain ingest SOURCE`: deliveries from a folder or an S3 prefix become batches on the ingest branch, each
recorded in its .dvc file; bad ones are quarantined with their reason; a second run does nothing.

Real git (a bare origin), real DVC (a local remote, or moto's S3) and the project's own validation command.
"""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from tests.helpers import S3_BUCKET, Project
from tests.helpers.landing import FolderLanding, S3Landing, batches_on, delivery, ingest, report

pytestmark = pytest.mark.slow  # runs the engine against real git and DVC

BRANCH = "ingest/landing"


def md5(content: bytes) -> str:
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def stored(project: Project, content: bytes) -> bool:
    digest = md5(content)
    return (project.storage / "files" / "md5" / digest[:2] / digest[2:]).is_file()


def test_folder_deliveries_become_batches_on_the_ingest_branch(project: Project, folder_landing: FolderLanding):
    good_a, good_b = delivery(40, seed=1), delivery(50, seed=2)
    folder_landing.put("2025-03-01-a.csv", good_a)
    folder_landing.put("2025-03-02-b.csv", good_b)
    folder_landing.put("2025-03-03-bad.csv", delivery(30, seed=3, bad_label_at=5))
    folder_landing.put("2025-03-04-copy-of-a.csv", good_a)
    folder_landing.put("notes.txt", b"not data\n")
    head, origin_refs = project.git("rev-parse", "HEAD"), project.origin_git("show-ref")

    run = ingest(project, folder_landing.source)

    assert run.returncode == 0, run.describe()
    shown = f"{folder_landing.path}/"
    assert run.lines[-1] == "ingest: 2 ingested, 2 rejected, 1 duplicate"
    by_key = {line.split(": ", 1)[0].removeprefix(shown): line.split(": ", 1)[1] for line in run.lines[:-1]}
    assert by_key["2025-03-01-a.csv"].startswith("ingested as data/raw/batch-0001-")
    assert by_key["2025-03-02-b.csv"].startswith("ingested as data/raw/batch-0002-")
    assert by_key["2025-03-03-bad.csv"] == (
        "rejected: column 'label': unknown label (known: 0..9): got 12 at line 5. Fix or remove this batch file "
        "(raw batches are immutable: deliver a corrected batch under a new name), then re-run."
    )
    assert by_key["2025-03-04-copy-of-a.csv"] == f"already ingested: same content as {by_key['2025-03-01-a.csv'][12:]}"
    assert by_key["notes.txt"].startswith("rejected: not a CSV batch")

    # The batches, committed on the ingest branch with their record; the work tree and develop untouched.
    assert project.git("rev-parse", "HEAD") == head and project.git("branch", "--show-current") == "develop"
    assert project.git("status", "--porcelain") == ""
    new = {path: spec for path, spec in batches_on(project, BRANCH).items() if path not in batches_on(project, head)}
    assert len(new) == 2
    for path, spec in new.items():
        assert "-landing-2025-03-0" in path and path.endswith(".csv")
        record = spec["meta"]["ingest"]
        content = good_a if record["key"] == "2025-03-01-a.csv" else good_b
        assert spec["outs"] == [{"md5": md5(content), "size": len(content), "hash": "md5", "path": path[9:]}]
        assert record["source"] == shown and record["size"] == len(content)
        assert set(record) >= {"etag", "version_id", "delivered", "ingested", "listed_through"}
        assert record["listed_through"] == "notes.txt"
        assert stored(project, content), "the data is in the DVC remote"
    assert project.git("log", "-1", "--format=%s", BRANCH) == f"data: ingest 2 delivery(ies) from {shown}"
    # Without --push nothing reached origin; the run said what it would push.
    assert project.origin_git("show-ref") == origin_refs
    assert f"would push {BRANCH} (then a pull request to develop) to origin" in run.stderr
    assert report(project)["would_push"] is True and report(project)["pending_batches"] == sorted(new)

    # Quarantined beside the landing, never deleted from it.
    rejected = folder_landing.rejected_files()
    assert set(rejected) == {
        "2025-03-03-bad.csv",
        "2025-03-03-bad.csv.reason.yaml",
        "notes.txt",
        "notes.txt.reason.yaml",
    }
    reason = rejected["2025-03-03-bad.csv.reason.yaml"].decode()
    assert reason.startswith(f"reason: '{shown}2025-03-03-bad.csv: column ''label'': unknown label")
    assert "key: 2025-03-03-bad.csv" in reason
    assert len(list(folder_landing.path.iterdir())) == 5

    # The branch checks out like any data branch: DVC brings the very bytes that were delivered.
    project.git("switch", "--quiet", BRANCH)
    for path, spec in new.items():
        key = spec["meta"]["ingest"]["key"]
        assert (project.root / path).read_bytes() == (folder_landing.path / key).read_bytes()


def test_second_run_does_nothing_and_says_so(project: Project, folder_landing: FolderLanding):
    folder_landing.put("a.csv", delivery(40, seed=1))
    folder_landing.put("b.csv", delivery(30, seed=3, bad_label_at=4))
    assert ingest(project, folder_landing.source).returncode == 0
    tip = project.git("rev-parse", BRANCH)

    again = ingest(project, folder_landing.source)

    assert again.returncode == 0, again.describe()
    # Listed from the last key recorded (b.csv, refused), not from the start: a.csv is not even listed.
    assert again.lines[-1] == "ingest: nothing new, 1 already rejected"
    assert project.git("rev-parse", BRANCH) == tip
    assert report(project)["counts"]["ingested"] == 0


def test_every_new_delivery_bad_exits_2_naming_them_and_records_nothing(project: Project, folder_landing):
    folder_landing.put("only.csv", delivery(30, seed=3, bad_label_at=7))
    run = ingest(project, folder_landing.source)
    assert run.returncode == 2, run.describe()
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("error: every new delivery was refused") and "rejected/" in last
    assert "only.csv: rejected: column 'label': unknown label" in run.stdout and "line 7" in run.stdout
    assert project.git("branch", "--list", BRANCH) == ""
    assert ingest(project, folder_landing.source).returncode == 0, "refused once, not retried"


def test_a_delivery_changed_under_the_same_key_is_a_new_delivery(project: Project, folder_landing: FolderLanding):
    folder_landing.put("2025-03-01.csv", delivery(40, seed=1))
    folder_landing.put("2025-03-02.csv", delivery(40, seed=2))
    assert ingest(project, folder_landing.source).returncode == 0
    first = {
        spec["meta"]["ingest"]["key"]: path for path, spec in batches_on(project, BRANCH).items() if "meta" in spec
    }
    time.sleep(0.01)
    folder_landing.put("2025-03-02.csv", delivery(45, seed=4))  # the latest key, delivered again
    folder_landing.put("2025-03-01.csv", delivery(45, seed=5))  # an older key: only a rescan lists it

    run = ingest(project, folder_landing.source)

    assert run.returncode == 0, run.describe()
    assert run.lines[-1] == "ingest: 1 ingested"
    assert run.lines[0].endswith(f"(changed under the same key: a new delivery after {first['2025-03-02.csv']})")
    rescan = ingest(project, folder_landing.source, "--rescan")
    assert rescan.returncode == 0, rescan.describe()
    assert rescan.lines[-1] == "ingest: 1 ingested, 1 already ingested"
    assert f"a new delivery after {first['2025-03-01.csv']}" in rescan.lines[0]
    assert report(project)["listing"] == {"rescan": True, "start_after": None, "listed": 2}


def test_validate_command_unset_is_bad_config(project: Project, folder_landing: FolderLanding):
    params = project.root / "params.yaml"
    params.write_text("\n".join(line for line in params.read_text().splitlines() if "validate_command" not in line))
    project.git("commit", "--quiet", "-am", "no validation")
    folder_landing.put("a.csv", delivery(40, seed=1))
    run = ingest(project, folder_landing.source)
    assert run.returncode == 2 and "release.validate_command is not set" in run.stderr, run.describe()


def test_missing_landing_folder_is_named(project: Project):
    run = ingest(project, str(project.root.parent / "nowhere"))
    assert run.returncode == 2 and run.stderr.strip().endswith("does not exist; create it or fix SOURCE."), run.stderr


@pytest.mark.s3
def test_s3_prefix_with_push_and_a_listing_that_grows_with_new_deliveries_only(s3_project: Project, s3_landing):
    landing: S3Landing = s3_landing
    old = [landing.put(f"2025/03/{day:02d}.csv", delivery(20, seed=day)) for day in range(1, 31)]
    bad = landing.put("2025/03/31-bad.csv", delivery(20, seed=99, bad_label_at=3))

    first = ingest(s3_project, landing.source, "--push")

    assert first.returncode == 0, first.describe()
    assert first.lines[-1] == "ingest: 30 ingested, 1 rejected"
    branch = "ingest/dvc-exemplar-landing"
    assert s3_project.origin_git("rev-parse", branch) == s3_project.git("rev-parse", branch), "pushed"
    on_branch = batches_on(s3_project, branch)
    records = [spec["meta"]["ingest"] for spec in on_branch.values() if "meta" in spec]
    assert sorted(record["key"] for record in records) == old
    assert all(record["version_id"] for record in records), "the bucket is versioned: the version id is recorded"
    assert all(s3_landing.s3.has(spec["outs"][0]["md5"]) for spec in on_branch.values() if "meta" in spec)
    assert set(landing.rejected_files()) == {"2025/03/31-bad.csv", "2025/03/31-bad.csv.reason.yaml"}
    assert bad in landing.s3.keys("landing/"), "the original stays in the landing"

    landing.put("2025/04/01.csv", delivery(20, seed=101))
    second = ingest(s3_project, landing.source, "--push")

    assert second.returncode == 0, second.describe()
    assert second.lines[-1] == "ingest: 1 ingested, 1 already rejected"
    listing = report(s3_project)["listing"]
    assert listing["listed"] == 2, "only the last key recorded and what came after it are listed"
    assert listing["start_after"] < "landing/2025/03/31-bad.csv" < "landing/2025/04/01.csv"
    assert len(batches_on(s3_project, branch)) == len(on_branch) + 1
    assert s3_project.origin_git("rev-parse", branch) == s3_project.git("rev-parse", branch)
    assert os.listdir(s3_project.root / "data/raw") == [".gitignore", "batch-0000-digits.csv.dvc"]
    assert S3_BUCKET in report(s3_project)["source"]


@pytest.mark.s3
def test_simulated_deliveries_dropped_with_the_script_are_ingested_or_quarantined(s3_project: Project, s3_landing):
    landing: S3Landing = s3_landing
    for extra in ([], ["--corrupt", "--seed", "3"]):
        dropped = s3_project.python(
            "scripts/simulate_new_data.py",
            "--rows",
            "40",
            "--to",
            landing.source,
            "--endpoint-url",
            landing.s3.endpoint,
            *extra,
        )
        assert dropped.stdout.startswith(f"delivered {landing.source}"), dropped.stdout
    keys = landing.s3.keys("landing/")
    assert len(keys) == 2 and keys == sorted(keys), "named by the time they were dropped: they sort in that order"

    run = ingest(s3_project, landing.source)

    assert run.returncode == 0, run.describe()
    assert run.lines[-1] == "ingest: 1 ingested, 1 rejected"
    assert "-corrupt.csv: rejected: column 'label': unknown label" in run.stdout
