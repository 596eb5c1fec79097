"""release.partition_by: month (issue 22): a release that brings new batches moves the ones its base release holds
into the partition of that release's month, one .dvc file per month, with nothing the stages compute changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from tests.helpers import Project, add_small_batches, second_clone

pytestmark = pytest.mark.slow


def last_line(result) -> str:
    return result.stdout.strip().splitlines()[-1]


def partitions(project: Project) -> list[Path]:
    return sorted(path for path in (project.root / "data/raw").glob("*.dvc") if not path.name.endswith(".csv.dvc"))


def listed(dvc_file: Path) -> dict:
    """name -> {md5, ingest} of what a partition's .dvc file lists (one JSON array per line under `meta:
    partition:`, so that DVC parses one scalar, not a mapping per batch)."""
    listing = yaml.safe_load(dvc_file.read_text())["meta"]["partition"]
    assert isinstance(listing, str), "the listing is one block of text"
    entries = [json.loads(line) for line in listing.splitlines()]
    return {name: {"md5": md5, **({"ingest": rest[0]} if rest else {})} for md5, name, *rest in entries}


def version(tag: str) -> tuple[int, ...]:
    return tuple(int(part) for part in tag.rpartition("@v")[2].split("."))


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def test_releases_compact_what_they_hold_and_an_old_tag_restores_byte_exact(released: Project) -> None:
    project = released
    first = max(project.tags(), key=version)  # the seed batch's release
    seed_dvc = project.root / "data/raw/batch-0000-digits.csv.dvc"
    seed_md5 = yaml.safe_load(seed_dvc.read_text())["outs"][0]["md5"]
    project.set_param("release", "partition_by", "month")
    project.set_param("release", "max_regression", 1.0)  # 20-row batches move the metric by chance

    assert last_line(project.retrain("run")).startswith("up to date"), "a run with no new data moved something"
    assert not partitions(project)

    add_small_batches(project, 1, 3)
    delivered = project.root / "data/raw/batch-00001-history.csv.dvc"  # as `retrain ingest` records a delivery
    record = {"source": "s3://landing", "key": "in/b1.csv", "etag": "e1", "ingested": "2026-12-01T00:00:00Z"}
    delivered.write_text(delivered.read_text() + yaml.safe_dump({"meta": {"ingest": record}}))
    project.git("commit", "--quiet", "-am", "data: batch 1 came from the landing")
    result = project.retrain("run")
    assert result.returncode == 0, result.stderr
    assert last_line(result).startswith("released model@"), result.stdout
    assert "compacted 1 released batch(es) into data/raw/" in result.stderr, result.stderr
    [partition] = partitions(project)
    assert not seed_dvc.exists()
    assert listed(partition) == {"batch-0000-digits.csv": {"md5": seed_md5}}
    folder = partition.with_suffix("")
    assert md5(folder / "batch-0000-digits.csv") == seed_md5
    assert project.git("status", "--porcelain") == "", "the release left changes uncommitted"
    # the release commit holds the compaction: the partition's .dvc file, the moved .dvc file, the .gitignore
    changed = project.git("show", "--name-status", "--format=", "HEAD").splitlines()
    assert "D\tdata/raw/batch-0000-digits.csv.dvc" in changed, changed
    assert f"A\tdata/raw/{partition.name}" in changed, changed

    assert last_line(project.retrain("run")).startswith("up to date: model@"), "the no-op after compaction"

    add_small_batches(project, 4, 1)
    result = project.retrain("run")
    assert last_line(result).startswith("released model@"), result.stdout + result.stderr
    assert partitions(project) == [partition], "a second partition for the same month"
    assert sorted(listed(partition)) == ["batch-0000-digits.csv", *(f"batch-0000{n}-history.csv" for n in (1, 2, 3))]
    assert listed(partition)["batch-00001-history.csv"]["ingest"] == record, "the delivery's record was lost"
    assert len(list((project.root / "data/raw").glob("*.csv.dvc"))) == 1, "the newest batch stays a single file"

    # Only the data of the first compacting release: its partition held the seed batch alone, and today's newest
    # batch (a single file) is set aside.
    compacting = max(tag for tag in project.tags() if tag != max(project.tags(), key=version))
    restored = project.retrain("restore", compacting, "--only", "data")
    assert restored.returncode == 0, restored.stderr
    assert sorted(path.name for path in folder.iterdir()) == ["batch-0000-digits.csv"], restored.stdout
    assert sorted(path.name for path in (project.root / "data/raw").glob("*.csv")) == [
        "batch-00001-history.csv",
        "batch-00002-history.csv",
        "batch-00003-history.csv",
    ]
    project.git("restore", "--source=HEAD", "--staged", "--worktree", "data/raw")  # as the README says
    project.dvc("checkout", "--quiet")

    # The tag before any compaction comes back whole, byte for byte: its own .dvc files name the same objects.
    restored = project.retrain("restore", first)
    assert restored.returncode == 0, restored.stderr
    assert md5(project.root / "data/raw/batch-0000-digits.csv") == seed_md5
    assert yaml.safe_load(seed_dvc.read_text())["outs"][0]["md5"] == seed_md5


def test_a_partition_changed_outside_a_release_is_refused(released: Project) -> None:
    project = released
    project.set_param("release", "partition_by", "month")
    project.set_param("release", "max_regression", 1.0)
    add_small_batches(project, 1, 2)
    assert last_line(project.retrain("run", check=True)).startswith("released")
    [partition] = partitions(project)
    text = partition.read_text()
    partition.write_text(text.replace('"batch-0000-digits.csv"', '"batch-0000-forged.csv"'))
    project.git("commit", "--quiet", "-am", "a pull request edits a partition")
    add_small_batches(project, 3, 1)

    result = project.retrain("run")

    assert result.returncode == 2, result.stdout + result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: data/raw/{partition.name}: a partition of raw batches that differs from"), error
    assert "Traceback" not in result.stderr
    assert len(project.tags()) == 2, "a tag was made"


def test_a_release_refused_by_origin_undoes_its_compaction_and_compacts_again_on_top(
    released: Project, tmp_path: Path
) -> None:
    """Origin moved while this release compacted: the dropped release commit takes its compaction with it, the
    batches go back where their .dvc files expect them, and the retry on top of origin compacts again."""
    project = released
    project.set_param("release", "partition_by", "month")
    project.set_param("release", "max_regression", 1.0)
    project.git("push", "--quiet", "origin", "develop")
    other = second_clone(project, tmp_path)
    project.add_batch(rows=300, seed=21)
    other.add_batch(rows=350, seed=22)
    other.dvc("push")
    other.git("push", "--quiet", "origin", "develop")

    result = project.retrain("run", "--push")

    assert result.returncode == 0, result.stderr
    assert "catching up with origin/develop" in result.stderr, result.stderr
    assert "moved 1 batch(es) back out of the partition this run had made" in result.stderr, result.stderr
    assert last_line(result) == "released model@v1.1.0", result.stdout
    [partition] = partitions(project)
    assert sorted(listed(partition)) == ["batch-0000-digits.csv"]
    assert len(list((project.root / "data/raw").glob("*.csv.dvc"))) == 2, "both new deliveries stay single files"
    assert project.git("status", "--porcelain") == ""
    assert project.origin_git("rev-parse", "develop") == project.git("rev-parse", "HEAD")
    assert last_line(other.retrain("run", "--push")) == "up to date: model@v1.1.0"


def test_migrate_data_says_the_next_release_compacts(released: Project) -> None:
    """An existing repository moves into the layout by setting release.partition_by: its next release with new data
    compacts (partitions are the release's to write); migrate-data says so rather than writing one itself."""
    project = released
    project.set_param("release", "partition_by", "month")

    result = project.retrain("migrate-data")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "nothing to migrate: data/raw already has one .dvc file per batch (1). release.partition_by: month: the next "
        "release that brings new batches compacts the ones the latest release holds into data/raw/YYYY-MM/"
    )
    assert not partitions(project) and project.git("status", "--porcelain") == ""
