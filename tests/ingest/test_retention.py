"""release.ingest_retention_days: a run deletes from the landing only originals dealt with at least that many days
ago: ingested, with their record on develop (merged, not only proposed) and still the recorded version; or
refused, with their quarantine copy and reason file in rejected/. Unset, nothing is ever deleted.

The records are made old the honest way: their times are rewritten (a commit on origin, the reason file in
rejected/), since that is where the engine reads them."""

from __future__ import annotations

import time

import pytest

from tests.helpers import Project
from tests.helpers.landing import (
    FolderLanding,
    S3Landing,
    backdate_records,
    delivery,
    ingest,
    merge_on_origin,
    report,
)

pytestmark = pytest.mark.slow  # runs the engine against real git and DVC

BRANCH = "ingest/landing"


def set_retention(project: Project, days: int | str) -> None:
    project.set_param("release", "ingest_retention_days", days)
    project.git("push", "--quiet", "origin", "develop")


def deleted(run_report: dict) -> list[str]:
    return [item["key"] for item in run_report["retention"]["deleted"]]


def test_only_merged_unchanged_and_old_originals_are_deleted(project: Project, folder_landing: FolderLanding):
    landing = folder_landing
    landing.put("2025-03-01-a.csv", delivery(30, seed=1))
    landing.put("2025-03-02-bad.csv", delivery(30, seed=2, bad_label_at=4))
    assert ingest(project, landing.source, "--push").returncode == 0
    backdate_records(project, BRANCH, days=40)  # old, but only on the ingest branch: its pull request is open
    landing.backdate_rejection("2025-03-02-bad.csv", days=40)
    landing.put("2025-03-03-b.csv", delivery(30, seed=3))

    unset = ingest(project, landing.source, "--push")

    assert unset.returncode == 0, unset.describe()
    assert "deleted" not in unset.stdout and report(project)["retention"] == {"days": None, "deleted": []}
    assert "[9/9] report ..." in unset.stderr and "delete originals" not in unset.stderr
    assert landing.names() == ["2025-03-01-a.csv", "2025-03-02-bad.csv", "2025-03-03-b.csv"], "unset: never"

    set_retention(project, 30)
    proposed = ingest(project, landing.source, "--push")

    assert proposed.returncode == 0, proposed.describe()
    bad = f"{landing.path}/2025-03-02-bad.csv"
    assert proposed.lines[-2].startswith(f"{bad}: deleted from the landing (rejected, its copy and reason kept")
    assert proposed.lines[-1] == "ingest: nothing new, 1 already ingested, 1 original(s) deleted"  # listed from b
    assert landing.names() == ["2025-03-01-a.csv", "2025-03-03-b.csv"], "a.csv is not merged yet: kept"
    assert set(landing.rejected_files()) == {"2025-03-02-bad.csv", "2025-03-02-bad.csv.reason.yaml"}

    merge_on_origin(project, BRANCH)
    backdate_records(project, "develop", days=40)
    time.sleep(0.01)
    landing.put("2025-03-03-b.csv", delivery(35, seed=4))  # changed under its key: a new delivery, never deleted

    merged = ingest(project, landing.source, "--push")

    assert merged.returncode == 0, merged.describe()
    a = f"{landing.path}/2025-03-01-a.csv"
    assert merged.lines[-2].startswith(f"{a}: deleted from the landing (ingested as data/raw/batch-0001-")
    assert merged.lines[-2].endswith(" retention 30 days)")
    assert merged.lines[-1] == "ingest: 1 ingested, 1 original(s) deleted"
    assert landing.names() == ["2025-03-03-b.csv"]
    assert report(project)["counts"]["deleted"] == 1 and deleted(report(project)) == ["2025-03-01-a.csv"]
    assert "Deleted from the landing (30 days' retention)" in (project.root / "reports/ingest.md").read_text()

    again = ingest(project, landing.source, "--push")
    assert again.returncode == 0 and again.lines[-1] == "ingest: nothing new, 1 already ingested", again.describe()
    assert landing.names() == ["2025-03-03-b.csv"]


def test_recent_originals_are_kept(project: Project, folder_landing: FolderLanding):
    set_retention(project, 1)
    folder_landing.put("a.csv", delivery(30, seed=1))
    folder_landing.put("b.csv", delivery(30, seed=2, bad_label_at=3))
    assert ingest(project, folder_landing.source, "--push").returncode == 0
    merge_on_origin(project, BRANCH)

    run = ingest(project, folder_landing.source, "--push")

    assert run.returncode == 0 and run.lines[-1] == "ingest: nothing new, 1 already rejected"
    assert "[9/10] delete originals older than release.ingest_retention_days ..." in run.stderr
    assert folder_landing.names() == ["a.csv", "b.csv"]


@pytest.mark.parametrize(("value", "shown"), [(0, "greater than or equal to 1"), ("'30'", "valid integer")])
def test_a_bad_retention_is_one_line_naming_the_key(project: Project, folder_landing, value, shown):
    set_retention(project, value)
    folder_landing.put("a.csv", delivery(30, seed=1))
    run = ingest(project, folder_landing.source)
    assert run.returncode == 2, run.describe()
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("error: params.yaml: release.ingest_retention_days: ") and shown in last, last
    assert folder_landing.names() == ["a.csv"] and project.git("branch", "--list", BRANCH) == ""


@pytest.mark.s3
def test_s3_landing_deletes_merged_and_refused_originals(s3_project: Project, s3_landing: S3Landing):
    landing, branch = s3_landing, "ingest/dvc-exemplar-landing"
    set_retention(s3_project, 7)
    landing.put("2025/03/01.csv", delivery(30, seed=1))
    landing.put("2025/03/02-bad.csv", delivery(30, seed=2, bad_label_at=5))
    landing.put("2025/03/03.csv", delivery(30, seed=3))
    assert ingest(s3_project, landing.source, "--push").returncode == 0
    merge_on_origin(s3_project, branch)
    backdate_records(s3_project, "develop", days=8)
    landing.backdate_rejection("2025/03/02-bad.csv", days=8)
    landing.put("2025/03/03.csv", delivery(30, seed=5))  # a new version under the key: kept
    before = landing.names()

    run = ingest(s3_project, landing.source, "--push")

    assert run.returncode == 0, run.describe()
    assert before == ["2025/03/01.csv", "2025/03/02-bad.csv", "2025/03/03.csv"]
    assert landing.names() == ["2025/03/03.csv"]
    assert deleted(report(s3_project)) == ["landing/2025/03/01.csv", "landing/2025/03/02-bad.csv"]
    assert run.lines[-1] == "ingest: 1 ingested, 2 original(s) deleted"
    assert set(landing.rejected_files()) == {"2025/03/02-bad.csv", "2025/03/02-bad.csv.reason.yaml"}
