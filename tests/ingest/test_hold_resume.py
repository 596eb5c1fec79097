"""`retrain ingest SOURCE --hold`, then `--resume`: the long part (download, validate, upload; with --release the
reproduction and the gate, as a dry run) pushes nothing, so CI can mint its one-hour push token afterwards.
The resume pushes exactly what the held run committed, with the held run's report, and lists nothing new."""

from __future__ import annotations

import json

import pytest

from tests.helpers import Project
from tests.helpers.consistency import assert_consistent
from tests.helpers.landing import FolderLanding, delivery, ingest, report
from tests.helpers.templates import Batch

pytestmark = pytest.mark.slow  # the engine against real git and DVC

BRANCH = "ingest/landing"


def test_a_held_pull_request_ingest_pushes_nothing_and_the_resume_pushes_it_with_its_report(
    project: Project, folder_landing: FolderLanding
):
    folder_landing.put("2025-03-01.csv", delivery(30, seed=1))
    folder_landing.put("2025-03-02-bad.csv", delivery(30, seed=2, bad_label_at=4))
    origin_refs = project.origin_git("for-each-ref", "--format=%(refname) %(objectname)")

    held = ingest(project, folder_landing.source, "--hold")

    assert held.returncode == 0, held.describe()
    assert project.origin_git("for-each-ref", "--format=%(refname) %(objectname)") == origin_refs, "nothing pushed"
    assert "held (--hold)" in held.stderr, held.describe()
    held_report = report(project)
    assert held_report["held"] and held_report["would_push"] and not held_report["pushed"]
    committed = project.git("rev-parse", BRANCH)
    assert held_report["commit"] == committed

    # A delivery that lands between the two steps waits for the next run: the resume ingests nothing new.
    folder_landing.put("2025-03-03.csv", delivery(30, seed=3))
    resumed = ingest(project, folder_landing.source, "--resume")

    assert resumed.returncode == 0, resumed.describe()
    assert project.origin_git("rev-parse", BRANCH) == committed, "the held commit, pushed as it was"
    final = report(project)
    assert final["pushed"] and not final["held"] and not final["would_push"]
    assert final["deliveries"] == held_report["deliveries"], "the held run's deliveries, refused one included"
    assert len(final["pending_batches"]) == 1
    assert resumed.lines[-1] == held.lines[-1] == "ingest: 1 ingested, 1 rejected"
    markdown = (project.root / "reports/ingest.md").read_text()
    assert "2025-03-02-bad.csv" in markdown and "2025-03-03.csv" not in markdown

    later = ingest(project, folder_landing.source, "--push")
    assert later.lines[-1] == "ingest: 1 ingested, 1 already rejected", later.describe()


def test_resume_without_a_held_run_says_what_to_run_and_pushes_nothing(project: Project, folder_landing):
    folder_landing.put("2025-03-01.csv", delivery(30, seed=1))
    plain = ingest(project, folder_landing.source)  # no --hold: a local run, not one to resume
    assert plain.returncode == 0, plain.describe()

    run = ingest(project, folder_landing.source, "--resume")

    assert run.returncode == 2, run.describe()
    (line,) = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith("error: reports/ingest.json: its run was not held (--hold)"), line
    assert project.origin_git("branch", "--list", BRANCH) == "", "nothing pushed"

    (project.root / "reports/ingest.json").write_text(json.dumps({"held": True}))
    run = ingest(project, folder_landing.source, "--resume")
    assert run.returncode == 2 and "not a report `retrain ingest` wrote" in run.stderr, run.describe()

    (project.root / "reports/ingest.json").unlink()
    run = ingest(project, folder_landing.source, "--resume")
    assert run.returncode == 2 and "no report of a held ingest to resume" in run.stderr, run.describe()


def test_a_held_report_is_resumed_only_for_its_own_landing_and_mode(project: Project, folder_landing, tmp_path):
    folder_landing.put("2025-03-01.csv", delivery(30, seed=1))
    assert ingest(project, folder_landing.source, "--hold").returncode == 0
    other = FolderLanding(tmp_path / "elsewhere" / "landing")

    wrong_source = ingest(project, other.source, "--resume")
    wrong_mode = ingest(project, folder_landing.source, "--resume", "--release")

    assert wrong_source.returncode == 2 and f"not {other.source}" in wrong_source.stderr, wrong_source.describe()
    assert wrong_mode.returncode == 2 and "resume it without --release" in wrong_mode.stderr, wrong_mode.describe()
    assert project.origin_git("branch", "--list", BRANCH) == ""


def test_hold_and_push_together_are_refused(project: Project, folder_landing):
    run = ingest(project, folder_landing.source, "--hold", "--push")
    assert run.returncode == 2 and "not allowed with argument" in run.stderr, run.describe()


def test_a_held_release_reproduces_and_gates_then_the_resume_releases_from_the_run_cache(
    released: Project, good_batch: Batch, tmp_path
):
    landing = FolderLanding(tmp_path / "drops" / "landing")
    landing.put("2025-03-01.csv", good_batch.content)
    develop = released.origin_git("rev-parse", "develop")

    held = ingest(released, landing.source, "--release", "--hold")

    assert held.returncode == 0, held.describe()
    assert released.origin_git("rev-parse", "develop") == develop and set(released.origin_tags()) == {"model@v1.0.0"}
    assert "model@v1.1.0" not in released.git("tag", "--list"), "a dry run: no tag yet"
    assert report(released)["release"]["status"] == "dry_run"

    resumed = ingest(released, landing.source, "--release", "--resume")

    assert resumed.returncode == 0, resumed.describe()
    assert resumed.lines[-1] == "ingest: 1 ingested; released model@v1.1.0"
    assert released.origin_tags()["model@v1.1.0"] == released.origin_git("rev-parse", "develop")
    assert "Running stage" not in resumed.stdout + resumed.stderr, "restored from the run-cache, not trained again"
    assert report(released)["release"]["status"] == "released"
    assert_consistent(released, released.storage, settled=True)


def test_a_held_run_that_found_nothing_resumes_to_nothing(project: Project, folder_landing):
    held = ingest(project, folder_landing.source, "--hold")
    resumed = ingest(project, folder_landing.source, "--resume")

    assert (held.returncode, resumed.returncode) == (0, 0), resumed.describe()
    assert resumed.lines[-1] == "ingest: nothing new"
    assert not report(project)["pushed"] and project.origin_git("branch", "--list", BRANCH) == ""


def test_a_resume_refused_by_origin_stays_resumable_and_its_re_run_pushes(project: Project, folder_landing):
    """A resume whose push origin refuses (say, an App token origin's rules do not let through) leaves the report
    held and the commit local; once origin takes it, the same `--resume` finishes the job."""
    folder_landing.put("2025-03-01.csv", delivery(30, seed=1))
    assert ingest(project, folder_landing.source, "--hold").returncode == 0
    committed = project.git("rev-parse", BRANCH)
    hook = project.origin / "hooks" / "pre-receive"
    refusal = "echo 'error: GH013: Repository rule violations found for refs/heads/ingest' >&2"
    hook.write_text(f"#!/bin/sh\n{refusal}\nexit 1\n")
    hook.chmod(0o755)

    refused = ingest(project, folder_landing.source, "--resume")

    assert refused.returncode != 0 and "Traceback" not in refused.stderr, refused.describe()
    assert [line for line in refused.stderr.splitlines() if line.startswith("error:")], refused.describe()
    assert project.origin_git("branch", "--list", BRANCH) == "", "nothing reached origin"
    left = report(project)
    assert left["held"] and left["would_push"] and not left["pushed"], "still held: the re-run can resume it"

    hook.unlink()
    again = ingest(project, folder_landing.source, "--resume")

    assert again.returncode == 0, again.describe()
    assert project.origin_git("rev-parse", BRANCH) == committed
    assert report(project)["pushed"] and not report(project)["held"]
