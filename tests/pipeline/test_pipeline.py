"""The DVC pipeline itself: seed data, stage granularity, the seed's commands, merges, S3 and restore."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.dataset import read_batch, write_batch
from pipeline.digits import SEED_BATCH_NAME, seed_batch, simulate_batch
from tests.helpers import REPO_ROOT, Project, second_clone, sh
from tests.helpers.harness import deliver
from tests.helpers.templates import Batch, Template, copy_project, derived


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def ran_stages(output: str) -> list[str]:
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")]


class TestData:
    def test_seed_batch_is_byte_identical_to_the_committed_hash(self, tmp_path: Path) -> None:
        """Any machine materialises exactly the data that the first batch's .dvc file names."""
        write_batch(seed_batch(), tmp_path / SEED_BATCH_NAME)
        committed = yaml.safe_load((REPO_ROOT / f"data/raw/{SEED_BATCH_NAME}.dvc").read_text())["outs"][0]["md5"]
        assert md5(tmp_path / SEED_BATCH_NAME) == committed

    def test_simulated_batch_is_valid_and_noisy_as_asked(self, tmp_path: Path) -> None:
        clean = simulate_batch(5000, 0.0, seed=1)
        noisy = simulate_batch(5000, 0.3, seed=1)
        write_batch(noisy, tmp_path / "b.csv")
        assert len(read_batch(tmp_path / "b.csv")) == 5000
        wrong = (clean["label"] != noisy["label"]).mean()
        assert 0.25 < wrong < 0.35
        assert simulate_batch(100, 0.0, seed=2).equals(simulate_batch(100, 0.0, seed=2))

    @pytest.mark.slow
    def test_simulate_script_prints_next_steps(self, tmp_path: Path) -> None:
        result = sh(
            [sys.executable, str(REPO_ROOT / "scripts/simulate_new_data.py"), "--rows", "300", "--raw", "raw"],
            tmp_path,
        )
        assert "dvc add raw" in result.stdout and "dvc push" in result.stdout
        assert len(read_batch(next((tmp_path / "raw").glob("batch-0000-*.csv")))) == 300


@pytest.mark.slow
class TestStages:
    def test_param_change_reruns_only_the_stages_that_read_it(self, released: Project) -> None:
        project = released
        project.set_param("train", "C", 0.3, commit=False)
        assert ran_stages(project.dvc("repro").stdout) == ["train", "evaluate"]
        project.set_param("preprocessing", "test_size", 0.25, commit=False)
        assert ran_stages(project.dvc("repro").stdout) == ["preprocessing", "train", "evaluate"]
        assert ran_stages(project.dvc("repro").stdout) == []

    def test_training_is_deterministic(self, released: Project) -> None:
        """The same inputs give the same model metrics on a second, forced run."""
        project = released
        before = (project.root / "metrics/metrics.json").read_text()
        project.dvc("repro", "--force")
        assert (project.root / "metrics/metrics.json").read_text() == before

    def test_metrics_and_plots_diff_work(self, released: Project) -> None:
        project = released
        project.set_param("train", "C", 0.05, commit=False)
        project.dvc("repro")
        diff = project.dvc("metrics", "diff", "--json").stdout
        assert "accuracy" in diff
        out = project.dvc("plots", "diff", "-o", "plots-html").stdout
        assert (project.root / "plots-html/index.html").is_file(), out


@pytest.mark.slow
class TestCollaboration:
    def test_two_branches_adding_batches_merge_without_conflict(
        self, released: Project, good_batch: Batch, other_batch: Batch, tmp_path: Path
    ) -> None:
        """Each batch has its own .dvc file and data/raw/.gitignore already ignores batches: two branches that each
        add one merge with plain git, no merge driver configured (as GitHub's merge button merges), and the
        release holds both."""
        project = released
        for branch, batch in (("alice", good_batch), ("bob", other_batch)):
            project.git("switch", "--quiet", "-c", branch, "develop")
            deliver(project, batch.name, batch.content)
            assert project.git("diff", "--name-only", "develop", branch).endswith(".csv.dvc")  # nothing shared
            project.dvc("push", "-r", "local")
        project.git("push", "--quiet", "origin", "alice", "bob")
        merger = tmp_path / "merger"  # a plain clone: no `retrain setup`, so no merge driver
        sh(["git", "clone", "--quiet", "--branch", "develop", str(project.origin), str(merger)], tmp_path, project.env)
        assert sh(["git", "config", "merge.dvc.driver"], merger, project.env, check=False).stdout == ""
        for branch in ("alice", "bob"):
            merged = sh(["git", "merge", "--no-edit", f"origin/{branch}"], merger, project.env, check=False)
            assert merged.returncode == 0, merged.stdout + merged.stderr
        sh(["git", "push", "--quiet", "origin", "develop"], merger, project.env)
        project.git("switch", "--quiet", "develop")
        project.git("pull", "--quiet", "origin", "develop")
        result = project.retrain("run", "--push")
        assert result.returncode == 0, result.stderr
        assert json.loads((project.root / "metrics/data.json").read_text())["batches"] == 3
        assert len(project.raw_objects(result.stdout.split()[-1], project.origin)) == 3

    def test_git_checkout_of_a_tag_brings_its_data_along(self, released: Project, good_batch: Batch) -> None:
        """The post-checkout hook runs `dvc checkout`: switching to a release restores its data and model."""
        project = released
        deliver(project, good_batch.name, good_batch.content)
        assert project.retrain("run").returncode == 0
        assert project.batches() == sorted([SEED_BATCH_NAME, good_batch.name])
        project.git("checkout", "--quiet", "model@v1.0.0")
        assert project.batches() == [SEED_BATCH_NAME]
        hooks = project.root / ".git/hooks"
        assert (hooks / "post-checkout").is_file() and not (hooks / "pre-push").exists()


@pytest.mark.slow
@pytest.mark.s3
class TestS3:
    def test_push_and_pull_round_trip_byte_exactly(self, s3_project: Project, s3, tmp_path: Path) -> None:
        assert s3_project.retrain("run").returncode == 0
        originals = {name: md5(s3_project.root / "data/raw" / name) for name in s3_project.batches()}
        model = md5(s3_project.root / "models/model.joblib")
        s3_project.git("push", "--quiet", "origin", "develop")
        other = second_clone(s3_project, tmp_path)
        other.env.update(s3_project.env)
        other.dvc("pull", "-r", "s3remote")
        assert {name: md5(other.root / "data/raw" / name) for name in other.batches()} == originals
        assert md5(other.root / "models/model.joblib") == model


@pytest.fixture(scope="session")
def two_releases_template(template: Template, tmp_path_factory, worker_id: str) -> Project:
    """The session's template released again: a new batch and train.C 0.5 (model@v1.1.0), its DVC cache removed."""

    def build(project: Project) -> None:
        project.add_batch(rows=250, seed=31)
        project.set_param("train", "C", 0.5)
        assert project.retrain("run").returncode == 0
        shutil.rmtree(project.root / ".dvc/cache")  # restore must fetch from the remote

    return derived(tmp_path_factory, worker_id, "two-releases", template.project, build)


@pytest.mark.slow
class TestRestore:
    @pytest.fixture
    def two_releases(self, two_releases_template: Project, tmp_path: Path) -> Project:
        """model@v1.0.0 and model@v1.1.0 (a new batch and train.C 0.5), no local DVC cache: the test's own copy."""
        return copy_project(two_releases_template, tmp_path / "project")

    def test_restore_whole_snapshot(self, two_releases: Project) -> None:
        """The copy is a work tree this machine's DVC has never checked out (it keeps no record of it, as on a
        fresh machine): the batch delivered after the tag still leaves the work tree."""
        project = two_releases
        result = project.retrain("restore", "model@v1.0.0")
        assert result.returncode == 0, result.stderr
        assert "restored model@v1.0.0 whole" in result.stdout
        assert project.git("rev-parse", "HEAD") == project.tags()["model@v1.0.0"]
        expected = project.lock_objects("model@v1.0.0")
        assert md5(project.root / "models/model.joblib") == expected["models/model.joblib"]
        assert project.batches() == [SEED_BATCH_NAME]

    def test_restore_only_data_keeps_todays_code(self, two_releases: Project) -> None:
        project = two_releases
        head = project.git("rev-parse", "HEAD")
        result = project.retrain("restore", "model@v1.0.0", "--only", "data")
        assert result.returncode == 0, result.stderr
        assert project.git("rev-parse", "HEAD") == head
        assert project.batches() == [SEED_BATCH_NAME]
        assert "C: 0.5" in (project.root / "params.yaml").read_text()
        assert project.raw_objects("HEAD") != project.raw_objects("model@v1.0.0")  # git's history is today's
        restored = sorted(path.name for path in (project.root / "data/raw").glob("*.dvc"))
        assert restored == [f"{SEED_BATCH_NAME}.dvc"]

    def test_restore_only_model(self, two_releases: Project) -> None:
        project = two_releases
        result = project.retrain("restore", "model@v1.0.0", "--only", "model")
        assert result.returncode == 0, result.stderr
        assert md5(project.root / "models/model.joblib") == project.lock_objects("model@v1.0.0")["models/model.joblib"]

    def test_restore_unknown_tag_is_a_clear_error(self, project: Project) -> None:
        result = project.retrain("restore", "model@v9.9.9")
        assert result.returncode == 2
        assert "unknown tag `model@v9.9.9`" in result.stderr.splitlines()[-1]

    def test_releases_lists_newest_first(self, two_releases: Project) -> None:
        out = two_releases.retrain("releases").stdout.splitlines()
        assert out[1].startswith("model@v1.1.0") and out[2].startswith("model@v1.0.0")
        assert "2,047" in out[1]
