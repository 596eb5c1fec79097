"""Bad input is stopped with exit 2 and one line naming the file and what is wrong; nothing is written;
fixing it the way the line says lets the next run finish.

Bad data is delivered the README's way (a file in data/raw, `dvc add`, commit) on a released project; the
fix is the one the error asks for: remove the bad file and deliver a corrected batch under a new name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import yaml

from tests.helpers import Project
from tests.helpers.consistency import assert_consistent
from tests.helpers.harness import (
    REPRODUCE_STEP,
    assert_failed,
    assert_finishes,
    assert_refused_before_compute,
    deliver,
    repo_state,
    retrain,
    snapshot,
)
from tests.helpers.templates import Batch

pytestmark = pytest.mark.faults

BAD_NAME = "batch-0001-acme-delivery.csv"
SEED_BATCH = "batch-0000-digits.csv"


def _rows(content: bytes) -> tuple[list[str], list[list[str]]]:
    lines = content.decode().splitlines()
    return lines[0].split(","), [line.split(",") for line in lines[1:]]


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    return ("\n".join(",".join(row) for row in [header, *rows]) + "\n").encode()


def _set(content: bytes, row: int, column: str, value: str) -> bytes:
    header, rows = _rows(content)
    rows[row][header.index(column)] = value
    return _csv(header, rows)


def _rename_column(content: bytes) -> bytes:
    header, rows = _rows(content)
    header[header.index("pixel_5")] = "pixel5"
    return _csv(header, rows)


def _drop_label(content: bytes) -> bytes:
    header, rows = _rows(content)
    return _csv(header[:-1], [row[:-1] for row in rows])


def _extra_column(content: bytes) -> bytes:
    header, rows = _rows(content)
    return _csv([*header, "scanner"], [[*row, "s1"] for row in rows])


def _truncate(content: bytes) -> bytes:
    cut = len(content) // 2
    while content[cut : cut + 1] in (b",", b"\n"):
        cut += 1
    return content[:cut]  # mid-line, as a copy interrupted part way writes it


@dataclass(frozen=True)
class BadData:
    name: str  # file delivered into data/raw
    make: Callable[[bytes, bytes], bytes]  # (a good batch, the seed batch) -> the bad file's bytes
    says: tuple[str, ...]  # what the last line must name besides the file: the column and the rule


BAD_DATA = {
    "wrong-column-name": BadData(BAD_NAME, lambda good, _: _rename_column(good), ("'pixel_5'", "missing column")),
    "missing-column": BadData(BAD_NAME, lambda good, _: _drop_label(good), ("'label'", "missing column")),
    "extra-column": BadData(BAD_NAME, lambda good, _: _extra_column(good), ("'scanner'", "unexpected column")),
    "wrong-dtype": BadData(
        BAD_NAME, lambda good, _: _set(good, 2, "pixel_10", "3.5"), ("'pixel_10'", "wrong dtype", "line 4")
    ),
    "pixel-out-of-range": BadData(
        BAD_NAME, lambda good, _: _set(good, 0, "pixel_0", "17"), ("'pixel_0'", "pixel out of range 0..16", "line 2")
    ),
    "unknown-label": BadData(
        BAD_NAME, lambda good, _: _set(good, 4, "label", "10"), ("'label'", "unknown label", "line 6")
    ),
    "nan-empty-cell": BadData(
        BAD_NAME, lambda good, _: _set(good, 6, "pixel_7", ""), ("'pixel_7'", "missing value (NaN)", "line 8")
    ),
    "nan-literal": BadData(
        BAD_NAME, lambda good, _: _set(good, 6, "pixel_7", "NaN"), ("'pixel_7'", "missing value (NaN)", "line 8")
    ),
    "empty-file": BadData(BAD_NAME, lambda good, _: b"", ("empty batch",)),
    "header-only": BadData(BAD_NAME, lambda good, _: good.split(b"\n", 1)[0] + b"\n", ("empty batch",)),
    "duplicated-batch": BadData(BAD_NAME, lambda _, seed: seed, ("duplicate batch", SEED_BATCH)),
    "not-a-csv": BadData("delivery-notes.txt", lambda good, _: b"scanned at plant 2\n", ("not a batch file",)),
    "truncated-csv": BadData(BAD_NAME, lambda good, _: _truncate(good), ("malformed row", "truncated")),
}


@pytest.mark.parametrize("case", BAD_DATA.values(), ids=BAD_DATA.keys())
def test_bad_data_is_named_and_nothing_is_written(case: BadData, released: Project, good_batch: Batch) -> None:
    seed_batch = (released.root / "data/raw" / SEED_BATCH).read_bytes()
    before = repo_state(released)
    deliver(released, case.name, case.make(good_batch.content, seed_batch), "data: ACME delivery")
    delivered = released.git("rev-parse", "HEAD")

    result = retrain(released, "run", "--push")

    assert_failed(result, 2, f"data/raw/{case.name}", *case.says)
    after = repo_state(released)
    assert after["head"] == delivered, "a commit was made for bad data"
    assert after["tags"] == before["tags"] and after["origin_tags"] == before["origin_tags"]
    assert after["origin_develop"] == before["origin_develop"]
    for path, content in after["outputs"].items():  # a stage may clear its stale outputs, never write new ones
        assert before["outputs"].get(path) == content, f"{path} was written by a failed run"
    assert_consistent(released, released.storage)

    (released.root / "data/raw" / case.name).unlink()  # what the error says: remove it, deliver a corrected one
    released.git("rm", "--quiet", f"data/raw/{case.name}.dvc")
    deliver(released, good_batch.name, good_batch.content, "data: corrected ACME delivery")
    assert_finishes(released, released.storage, "released model@v1.1.0")


def test_removing_a_refused_batch_is_enough_for_the_next_run(released: Project, good_batch: Batch) -> None:
    """The failed stage deleted its git-tracked output (metrics/data.json); the user removes the bad batch and
    commits, nothing else: the next run restores what the failure deleted and finishes, with no traceback."""
    deliver(released, BAD_NAME, b"", "data: ACME delivery")
    assert_failed(retrain(released, "run", "--push"), 2, f"data/raw/{BAD_NAME}")
    (released.root / "data/raw" / BAD_NAME).unlink()
    released.git("rm", "--quiet", f"data/raw/{BAD_NAME}.dvc")
    released.git("commit", "--quiet", "-m", "data: drop the bad delivery")
    result = assert_finishes(released, released.storage, "up to date: model@v1.0.0")
    assert "Traceback" not in result.stderr and (released.root / "metrics/data.json").is_file()


# --- params ----------------------------------------------------------------------------------------------
def _params_edit(edit: Callable[[dict], None]) -> Callable[[Project], None]:
    def apply(project: Project) -> None:
        path = project.root / "params.yaml"
        params = yaml.safe_load(path.read_text())
        edit(params)
        path.write_text(yaml.safe_dump(params, sort_keys=False))
        project.git("commit", "--quiet", "-am", "params: tune")

    return apply


BAD_PARAMS = {
    "wrong-type": (
        _params_edit(lambda p: p["train"].update(C="strong")),
        ("params.yaml: train.C", "expected float", "'strong'"),
    ),
    "out-of-range": (
        _params_edit(lambda p: p["preprocessing"].update(test_size=1.5)),
        ("params.yaml: preprocessing.test_size", "must be", "1.5"),
    ),
    "unknown-key": (
        _params_edit(lambda p: p["train"].update(learning_rate=0.1)),
        ("params.yaml: train.learning_rate", "unknown key"),
    ),
    "missing-section": (_params_edit(lambda p: p.pop("release")), ("params.yaml", "section 'release' is missing")),
    "not-yaml": (
        lambda project: (
            (project.root / "params.yaml").write_text("train: {C: 1.0\n"),
            project.git("commit", "--quiet", "-am", "params: broken"),
        ),
        ("params.yaml", "not valid YAML"),
    ),
}


@pytest.mark.parametrize(("edit", "says"), BAD_PARAMS.values(), ids=BAD_PARAMS.keys())
def test_bad_params_stop_before_any_compute(edit, says, released: Project) -> None:
    before = repo_state(released)
    edit(released)
    result = retrain(released, "run", "--push")
    assert_failed(result, 2, *says)
    assert REPRODUCE_STEP not in result.stderr, "compute started with bad params"
    after = repo_state(released)
    assert after["outputs"] == before["outputs"] and after["tags"] == before["tags"]
    assert after["origin_tags"] == before["origin_tags"] and after["origin_develop"] == before["origin_develop"]
    assert_consistent(released, released.storage)
    released.git("revert", "--no-edit", "HEAD")
    assert_finishes(released, released.storage, "up to date: model@v1.0.0")


# --- dvc.lock and .dvc files -----------------------------------------------------------------------------
def _garbage(text: str) -> str:
    return text[: len(text) // 3] + "\n  - {{{ not: yaml\n\x00\x01"


def _truncated(text: str) -> str:
    """Cut off mid-entry, as a crash while writing leaves it: an output's path with no value."""
    marker = "- path: "
    return text[: text.index(marker, len(text) // 2) + len(marker)]


@pytest.mark.parametrize("corrupt", [_garbage, _truncated], ids=["garbage", "truncated"])
def test_corrupted_dvc_lock_is_named_with_the_fix(corrupt, released: Project) -> None:
    lock = released.root / "dvc.lock"
    lock.write_text(corrupt(lock.read_text()))
    before = snapshot(released, "metrics", "data/processed", "models")
    head = released.git("rev-parse", "HEAD")
    result = retrain(released, "run", "--push")
    last = assert_failed(result, 2, "dvc.lock")
    assert "git checkout HEAD -- dvc.lock" in last, last
    assert snapshot(released, "metrics", "data/processed", "models") == before
    assert released.git("rev-parse", "HEAD") == head
    assert_consistent(released, released.storage)
    released.git("checkout", "HEAD", "--", "dvc.lock")  # what the error says
    assert_finishes(released, released.storage, "up to date: model@v1.0.0")


def _conflicted(text: str, theirs: str) -> str:
    return f"<<<<<<< HEAD\n{text}=======\n{theirs}>>>>>>> feature\n"


def test_conflict_marker_in_dvc_lock(released: Project) -> None:
    """A merge left dvc.lock conflicted (unmerged in the work tree): exit 2, the file named, nothing run."""
    lock = released.root / "dvc.lock"
    text = lock.read_text()
    lock.write_text(_conflicted(text, text.replace("md5: ", "md5: 0", 1)))
    assert_refused_before_compute(released, 2, "dvc.lock", "merge-conflict marker")
    assert_consistent(released, released.storage)
    released.git("checkout", "HEAD", "--", "dvc.lock")
    assert_finishes(released, released.storage, "up to date: model@v1.0.0")


def test_conflict_marker_committed_in_a_dvc_file(released: Project, good_batch: Batch) -> None:
    """A conflicted batch .dvc file was committed by mistake: exit 2 naming it; restoring it lets the run finish."""
    name = f"data/raw/{SEED_BATCH}.dvc"
    raw_dvc = released.root / name
    ours = raw_dvc.read_text()
    theirs = ours.replace(ours.split("md5: ")[1].split("\n")[0], "0" * 32)
    raw_dvc.write_text(_conflicted(ours, theirs))
    released.git("commit", "--quiet", "-am", "merge feature")
    assert_refused_before_compute(released, 2, name, "merge-conflict marker")
    assert_consistent(released, released.storage)
    raw_dvc.write_text(ours)
    released.git("commit", "--quiet", "-am", f"resolve {name}")
    deliver(released, good_batch.name, good_batch.content)
    assert_finishes(released, released.storage, "released model@v1.1.0")
