"""`retrain run`: first release, idempotence, version bumps, the gate, verification, concurrency, run-cache."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest
import yaml

from tests.helpers import S3_BUCKET, VENV_BIN, Project, second_clone
from tests.helpers.harness import deliver
from tests.helpers.templates import Batch

pytestmark = pytest.mark.slow


def stages_said(stderr: str, verb: str) -> list[str]:
    """The stages a run's reproduce line names after `verb` ("ran train, evaluate; restored from run-cache ...")."""
    found = re.search(rf"(?:^ *|; ){verb} ([a-z_, ]+?)(?:;|$)", stderr, re.M)
    return found.group(1).split(", ") if found else []


def run_release(project: Project, *args: str) -> str:
    result = project.retrain("run", *args)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout.strip().splitlines()[-1]


class TestFirstRelease:
    def test_fresh_clone_materialises_data_and_tags_v1(self, project: Project) -> None:
        """A fresh clone with an empty remote builds the data from scikit-learn and releases model@v1.0.0."""
        assert run_release(project) == "released model@v1.0.0"
        assert (project.root / "data/raw/batch-0000-digits.csv").is_file()
        assert "model@v1.0.0" in project.tags()
        message = project.git("for-each-ref", "--format=%(contents)", "refs/tags/model@v1.0.0")
        assert "code commit:" in message and "1797 rows in 1 batches" in message and "accuracy:" in message
        assert project.run_summary()["status"] == "released"
        report = (project.root / "reports/report.md").read_text()
        assert "released model@v1.0.0" in report and "confusion.png" in report
        assert (project.root / "reports/confusion.png").stat().st_size > 1000

    def test_second_run_is_up_to_date_and_runs_no_stage(self, released: Project) -> None:
        """Nothing changed: no stage runs, no commit, no new tag, exit 0."""
        head = released.git("rev-parse", "HEAD")
        result = released.retrain("run")
        assert result.returncode == 0
        assert result.stdout.strip().splitlines()[-1] == "up to date: model@v1.0.0"
        assert "nothing changed: no stage ran" in result.stderr
        assert released.git("rev-parse", "HEAD") == head
        assert list(released.tags()) == ["model@v1.0.0"]

    def test_stages_run_in_retrains_environment_without_the_venv_on_path(self, project: Project) -> None:
        """`.venv/bin/retrain run` from cron or an IDE (no `activate`: the venv is not on PATH): `python` in the
        stages' cmd is still the venv's interpreter; a forced recompute gives dvc.lock the very same hashes."""
        project.env["PATH"] = os.pathsep.join(
            entry for entry in project.env["PATH"].split(os.pathsep) if Path(entry) != VENV_BIN
        )
        assert project.sh("sh", "-c", "command -v python3 || true").stdout.strip() != str(VENV_BIN / "python3")
        result = project.retrain("run")
        assert result.returncode == 0, result.stderr
        assert "ran preprocessing, train, evaluate" in result.stderr
        lock = (project.root / "dvc.lock").read_text()
        forced = project.retrain("run", "--force")
        assert forced.returncode == 0, forced.stderr
        assert "ran preprocessing, train, evaluate" in forced.stderr
        assert (project.root / "dvc.lock").read_text() == lock
        assert forced.stdout.strip().splitlines()[-1] == "up to date: model@v1.0.0"

    def test_release_commit_says_what_changed_and_ends_with_the_engines_trailer(
        self, released: Project, good_batch: Batch
    ) -> None:
        """The dvc.lock commit says what changed in its subject and ends with the `Retrain-Commit: release` trailer
        (git's own parser reads it), which the CI files recognise; no skip instruction (GitHub would leave the
        checks of a pull request on this commit Pending)."""
        deliver(released, good_batch.name, good_batch.content)
        run_release(released)
        subject = released.git("log", "-1", "--format=%s")
        assert subject.startswith("retrain: +300 rows") and "accuracy" in subject and "[skip ci]" not in subject
        assert "per_class_" not in subject, "the per-class breakdown belongs in the tag's lineage, not the subject"
        assert released.git("log", "-1", "--format=%(trailers:key=Retrain-Commit,valueonly)") == "release"
        assert released.git("show", "--name-only", "--format=", "HEAD").split() == [
            "dvc.lock",
            "metrics/data.json",
            "metrics/metrics.json",
        ]

    def test_gto_reads_the_tags(self, released: Project) -> None:
        """GTO's registry sees the release tags."""
        out = released.sh("gto", "show", "model").stdout
        assert "v1.0.0" in out


class TestVersionBumps:
    def test_new_data_bumps_minor(self, released: Project, good_batch: Batch) -> None:
        deliver(released, good_batch.name, good_batch.content)
        assert run_release(released) == "released model@v1.1.0"
        message = released.git("for-each-ref", "--format=%(contents)", "refs/tags/model@v1.1.0")
        assert "2097 rows in 2 batches" in message

    def test_params_change_bumps_patch(self, released: Project) -> None:
        released.set_param("train", "C", 0.5)
        assert run_release(released) == "released model@v1.0.1"
        assert "train.C 1.0->0.5" in released.git("log", "-1", "--format=%s")

    def test_major_flag_and_note(self, released: Project) -> None:
        released.set_param("train", "max_iter", 150)
        assert run_release(released, "--major", "--note", "new baseline") == "released model@v2.0.0"
        assert "new baseline" in released.git("for-each-ref", "--format=%(contents)", "refs/tags/model@v2.0.0")


class TestGate:
    def test_label_noise_is_gated_without_tag(self, released: Project) -> None:
        """A bad delivery (60% wrong labels) drops accuracy beyond the margin: exit 3, no tag."""
        released.add_batch(rows=6000, label_noise=0.6, seed=5)
        result = released.retrain("run")
        assert result.returncode == 3, result.stderr
        assert "gated" in result.stderr.splitlines()[-1] and "accuracy" in result.stderr.splitlines()[-1]
        assert list(released.tags()) == ["model@v1.0.0"]
        report = (released.root / "reports/report.md").read_text()
        assert "❌" in report and "gate failed" in report
        assert released.run_summary()["status"] == "gated"

    def test_dry_run_commits_and_tags_nothing(self, released: Project, good_batch: Batch) -> None:
        deliver(released, good_batch.name, good_batch.content)
        head = released.git("rev-parse", "HEAD")
        result = released.retrain("run", "--dry-run")
        assert result.returncode == 0, result.stderr
        assert "would commit" in result.stdout and "model@v1.1.0" in result.stdout
        assert released.git("rev-parse", "HEAD") == head
        assert list(released.tags()) == ["model@v1.0.0"]


class TestPushAndVerify:
    def test_push_lands_commit_and_tag_on_origin(self, released: Project) -> None:
        assert released.origin_tags()["model@v1.0.0"] == released.git("rev-parse", "HEAD")
        assert released.origin_git("rev-parse", "develop") == released.git("rev-parse", "HEAD")

    def test_s3_release_puts_every_object_in_the_bucket(self, s3_project: Project, s3) -> None:
        """Against moto's S3 server: every object of dvc.lock and the batches' .dvc files is stored."""
        assert run_release(s3_project, "--push") == "released model@v1.0.0"
        objects = s3_project.lock_objects()
        assert "data/raw/batch-0000-digits.csv" in objects
        for path, md5 in objects.items():
            assert s3.has(md5), path

    def test_member_deleted_from_bucket_is_caught(self, s3_released: Project, s3, tmp_path) -> None:
        """A fresh machine whose bucket lost one batch: no commit, no tag, exit 1, named object."""
        s3_released.add_batch(rows=300, seed=4)
        s3_released.dvc("push", "-r", "s3remote")  # the data reaches the bucket (as a PR build would push it)
        s3_released.git("push", "--quiet", "origin", "develop")
        batch_md5 = next(md5 for path, md5 in s3_released.raw_objects().items() if "seed4" in path)
        s3.delete(batch_md5)
        other = second_clone(s3_released, tmp_path)
        other.env.update(s3_released.env)
        head = other.git("rev-parse", "HEAD")
        result = other.retrain("run", "--push")
        assert result.returncode == 1, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert "missing from remote `s3remote`" in last and batch_md5 in last
        assert other.git("rev-parse", "HEAD") == head
        assert set(s3_released.origin_tags()) == {"model@v1.0.0"}


class TestFreshMachine:
    def test_a_fresh_clone_that_adds_a_batch_trains_on_every_batch(self, released: Project, tmp_path) -> None:
        """A CI checkout holds no data: when the raw data changed, every batch is pulled before preprocessing, not
        only the new one that happens to be there (`dvc repro --pull --allow-missing` would not pull them)."""
        other = second_clone(released, tmp_path)  # git only: no data, no cache
        other.add_batch(rows=300, seed=31)
        result = other.retrain("run")
        assert result.returncode == 0, result.stderr
        assert "pulled 1 batch(es) this machine lacked" in result.stderr
        stats = json.loads((other.root / "metrics/data.json").read_text())
        assert (stats["batches"], stats["rows"]) == (2, 1797 + 300)

    def test_a_fresh_clone_with_unchanged_data_reruns_nothing(self, released: Project, tmp_path) -> None:
        """The absent batch is pulled, so data/raw is unchanged again: only the stages a params change touches run."""
        other = second_clone(released, tmp_path)
        other.set_param("train", "C", 0.5)
        result = other.retrain("run")
        assert result.returncode == 0, result.stderr
        assert "ran preprocessing" not in result.stderr and "ran train" in result.stderr, result.stderr


class TestRunCache:
    def test_merge_build_restores_from_run_cache_without_training(self, s3_released: Project, s3, tmp_path) -> None:
        """A PR build pushes its run-cache; the merge build in a fresh clone restores `train` instead of running it."""
        s3_released.git("switch", "--quiet", "-c", "feature")
        s3_released.set_param("train", "C", 0.25)
        report = s3_released.retrain("report", "--base", "develop", "--reproduce")
        assert report.returncode == 0, report.stderr
        s3_released.git("switch", "--quiet", "develop")
        s3_released.git("merge", "--quiet", "--ff-only", "feature")
        s3_released.git("push", "--quiet", "origin", "develop")
        merge_build = second_clone(s3_released, tmp_path)
        merge_build.env.update(s3_released.env)
        result = merge_build.retrain("run", "--push")
        assert result.returncode == 0, result.stderr
        assert (
            "restored from run-cache" in result.stderr and "train" in result.stderr.split("restored from run-cache")[1]
        )
        assert "ran train" not in result.stderr and "Running stage 'train'" not in result.stdout
        assert result.stdout.strip().splitlines()[-1] == "released model@v1.0.1"


class TestPullRequestLocation:
    """Pull-request builds upload apart from the release remote (`--push-to s3remote-pr`); the merge build trusts only
    the release remote's run-cache unless it opts in (`--trust-runs-from s3remote-pr`)."""

    PR_REMOTE = "s3remote-pr"

    def _pull_request_build(self, project: Project, s3) -> set[str]:
        project.dvc("remote", "modify", "--local", self.PR_REMOTE, "endpointurl", s3.endpoint)
        release_keys = set(s3.keys("artifact-versioning/"))
        project.git("switch", "--quiet", "-c", "feature")
        project.set_param("train", "C", 0.25)
        report = project.retrain("report", "--base", "develop", "--reproduce", "--push-to", self.PR_REMOTE)
        assert report.returncode == 0, report.stderr
        assert set(s3.keys("artifact-versioning/")) == release_keys, "the PR build wrote where releases read"
        assert any(key.startswith("pull-requests/runs/") for key in s3.keys("pull-requests/")), s3.keys()
        project.git("switch", "--quiet", "develop")
        project.git("merge", "--quiet", "--ff-only", "feature")
        project.git("push", "--quiet", "origin", "develop")
        return release_keys

    def _merge_build(self, project: Project, s3, tmp_path: Path, *args: str):
        merge_build = second_clone(project, tmp_path)
        merge_build.env.update(project.env)
        merge_build.dvc("remote", "modify", "--local", self.PR_REMOTE, "endpointurl", s3.endpoint)
        result = merge_build.retrain("run", "--push", *args)
        assert result.returncode == 0, result.stderr
        return merge_build, result

    def test_by_default_the_merge_build_recomputes_and_never_releases_a_forged_entry(
        self, s3_released: Project, s3, tmp_path
    ) -> None:
        self._pull_request_build(s3_released, s3)
        # An attacker's entry: every run-cache entry in the PR location now names a planted model.
        planted = b"planted model"
        planted_md5 = hashlib.md5(planted).hexdigest()  # noqa: S324 (DVC's own object naming)
        s3.client.put_object(
            Bucket=S3_BUCKET, Key=f"pull-requests/files/md5/{planted_md5[:2]}/{planted_md5[2:]}", Body=planted
        )
        for key in s3.keys("pull-requests/runs/"):
            entry = yaml.safe_load(s3.client.get_object(Bucket=S3_BUCKET, Key=key)["Body"].read())
            for out in entry.get("outs", []):
                if out["path"] == "models/model.joblib":
                    out["md5"] = planted_md5
            s3.client.put_object(Bucket=S3_BUCKET, Key=key, Body=yaml.safe_dump(entry).encode())

        merge_build, result = self._merge_build(s3_released, s3, tmp_path)

        assert "train" in stages_said(result.stderr, "ran"), result.stderr
        assert result.stdout.strip().splitlines()[-1] == "released model@v1.0.1"
        assert merge_build.lock_objects()["models/model.joblib"] != planted_md5
        assert not s3.has(planted_md5), "the planted object reached the release remote"

    def test_with_the_opt_in_the_merge_build_restores_the_pull_requests_stages(
        self, s3_released: Project, s3, tmp_path
    ) -> None:
        self._pull_request_build(s3_released, s3)

        merge_build, result = self._merge_build(s3_released, s3, tmp_path, "--trust-runs-from", self.PR_REMOTE)

        assert "train" in stages_said(result.stderr, "restored from run-cache"), result.stderr
        assert "Running stage 'train'" not in result.stdout
        assert result.stdout.strip().splitlines()[-1] == "released model@v1.0.1"
        assert s3.has(merge_build.lock_objects()["models/model.joblib"]), "the release remote holds the model"


class TestConcurrentReleases:
    def test_two_clones_release_at_once_end_consistent(
        self, released: Project, good_batch: Batch, other_batch: Batch, tmp_path
    ) -> None:
        """Two clones each add a batch; the one whose push is refused rebases, merges the deliveries, retries."""
        other = second_clone(released, tmp_path)
        deliver(released, good_batch.name, good_batch.content)
        deliver(other, other_batch.name, other_batch.content)
        other.dvc("push")  # as the README says: data to the remote, then the commit to origin
        other.git("push", "--quiet", "origin", "develop")
        first = released.retrain("run", "--push")  # refused once (origin moved): rebases and retries
        assert first.returncode == 0, first.stderr
        assert "catching up with origin/develop" in first.stderr
        assert first.stdout.strip().splitlines()[-1] == "released model@v1.1.0"
        second = other.retrain("run", "--push")  # its delivery is already in model@v1.1.0
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip().splitlines()[-1] == "up to date: model@v1.1.0"
        tags = released.origin_tags()
        assert sorted(tags) == ["model@v1.0.0", "model@v1.1.0"]
        assert tags["model@v1.1.0"] == released.origin_git("rev-parse", "develop")
        assert len(released.raw_objects("develop", released.origin)) == 3  # both deliveries, none lost
        message = released.origin_git("for-each-ref", "--format=%(contents)", "refs/tags/model@v1.1.0")
        assert "2397 rows in 3 batches" in message


class TestAppendOnly:
    def test_a_batch_added_in_a_clone_that_never_pulled_is_released_with_the_others(
        self, released: Project, good_batch: Batch, tmp_path
    ) -> None:
        """With one .dvc file per batch, adding a batch needs none of the others here: the release holds all."""
        other = second_clone(released, tmp_path)
        deliver(other, good_batch.name, good_batch.content)
        assert run_release(other, "--push") == "released model@v1.1.0"
        assert len(other.raw_objects("model@v1.1.0", other.origin)) == 2

    def test_deleting_a_released_batch_is_refused(self, released: Project, good_batch: Batch) -> None:
        """Raw data is append-only: a commit that drops a released batch's .dvc file: exit 2, nothing released."""
        deliver(released, good_batch.name, good_batch.content)
        run_release(released)
        released.git("rm", "--quiet", "data/raw/batch-0000-digits.csv.dvc")
        (released.root / "data/raw/batch-0000-digits.csv").unlink()
        released.git("commit", "--quiet", "-m", "data: drop the first batch")
        head = released.git("rev-parse", "HEAD")
        result = released.retrain("run")
        assert result.returncode == 2, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert "append-only" in last and "batch-0000-digits.csv" in last and "git checkout model@v1.1.0" in last
        assert released.git("rev-parse", "HEAD") == head and sorted(released.tags()) == ["model@v1.0.0", "model@v1.1.0"]

    def test_a_batch_without_its_committed_dvc_file_is_refused(self, released: Project) -> None:
        """A batch the pipeline would train on but no commit stores (not `dvc add`ed, or its .dvc file not
        committed): exit 2 naming it, before any compute."""
        path = released.add_batch(rows=100, commit=False)
        name = str(path.relative_to(released.root))
        not_committed = released.retrain("run")
        assert not_committed.returncode == 2 and f"{name}.dvc" in not_committed.stderr.splitlines()[-1]
        released.git("rm", "--quiet", "--cached", "--ignore-unmatch", f"{name}.dvc")
        (released.root / f"{name}.dvc").unlink()
        not_added = released.retrain("run")
        assert not_added.returncode == 2, not_added.stderr
        assert f"dvc add {name}" in not_added.stderr.splitlines()[-1]
        assert "[2/9]" not in not_added.stderr and sorted(released.tags()) == ["model@v1.0.0"]


class TestPullRequestReport:
    """`retrain report --reproduce`, what the pull-request check runs (issue 11)."""

    def test_a_change_to_no_pipeline_input_is_reported_at_once_without_the_remote(self, released: Project) -> None:
        """Nothing to reproduce: no remote, no DVC run, green (the workflows have no path filter that could leave a
        required check Pending)."""
        released.git("switch", "--quiet", "-c", "docs")
        (released.root / "NOTES.md").write_text("How we work.\n")
        released.git("add", "NOTES.md")
        released.git("commit", "--quiet", "-m", "docs")
        # s3remote without any AWS credentials: it must not be needed
        result = released.retrain("report", "--base", "develop", "--reproduce", "--remote", "s3remote")
        assert result.returncode == 0, result.stderr
        assert "nothing to reproduce" in result.stderr and "pull what is needed" not in result.stderr
        assert "Nothing to reproduce" in (released.root / "reports/report.md").read_text()

    def test_a_batch_pushed_only_to_the_default_remote_is_named_with_its_fix(
        self, s3_released: Project, s3, tmp_path
    ) -> None:
        """A plain `dvc push` sends a new batch to `local`; the check, on s3remote, fails once the report names the
        batch and the exact command; after that command the same check passes."""
        s3_released.git("switch", "--quiet", "-c", "batch")
        batch = s3_released.add_batch(rows=200, seed=5).relative_to(s3_released.root)
        s3_released.dvc("push", "--quiet")  # the default remote: local
        s3_released.git("push", "--quiet", "origin", "batch")
        ci = second_clone(s3_released, tmp_path)  # a fresh runner: no cache
        ci.git("switch", "--quiet", "batch")
        result = ci.retrain("report", "--base", "origin/develop", "--reproduce")
        assert result.returncode == 1, result.stderr
        fix = f"dvc push -r s3remote {batch}.dvc"
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("error: ") and fix in last and "Traceback" not in result.stderr, last
        report = (ci.root / "reports/report.md").read_text()
        assert f"`{batch}`" in report and f"`{fix}`" in report
        s3_released.sh(*fix.split())
        again = ci.retrain("report", "--base", "origin/develop", "--reproduce")
        assert again.returncode == 0, again.stderr
        assert "would be released" in (ci.root / "reports/report.md").read_text()


class TestAnotherRunReleasedIt:
    def test_a_push_run_on_a_commit_that_a_later_release_contains_is_up_to_date_at_once(
        self, released: Project, good_batch: Batch, tmp_path
    ) -> None:
        """GitHub Actions and Travis both building one merge, or a run GitHub started late: the commit is already
        inside a release on origin, so the run says so without computing anything, and pushes nothing."""
        deliver(released, good_batch.name, good_batch.content)
        released.dvc("push", "--quiet")
        released.git("push", "--quiet", "origin", "develop")
        late = second_clone(released, tmp_path)  # the other CI system's checkout of that merge
        assert run_release(released, "--push") == "released model@v1.1.0"
        result = late.retrain("run", "--push")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == "up to date: model@v1.1.0"
        assert "already contains this commit" in result.stderr and "[2/9]" not in result.stderr
        assert sorted(released.origin_tags()) == ["model@v1.0.0", "model@v1.1.0"]
        assert late.run_summary()["status"] == "up_to_date"
