"""Each data rule fails the preprocessing stage with a message naming file, column and rule, and writes nothing."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.dataset import write_batch
from pipeline.digits import SEED_BATCH_NAME, seed_batch
from tests.helpers import REPO_ROOT, sh

GOOD = seed_batch().head(50)


def stage(tmp_path: Path) -> tuple[int, str]:
    """Run the real stage script the way dvc.yaml does."""
    result = sh(
        [sys.executable, "-m", "pipeline.preprocessing", "data/raw", "data/processed", "--stats", "m.json"],
        tmp_path,
        check=False,
    )
    return result.returncode, result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""


def write_text_batch(raw: Path, name: str, mutate: Callable[[list[str]], list[str]]) -> None:
    path = raw / name
    write_batch(GOOD, path)
    path.write_text("\n".join(mutate(path.read_text().splitlines())) + "\n")


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    shutil.copy(REPO_ROOT / "params.yaml", tmp_path / "params.yaml")
    folder = tmp_path / "data/raw"
    folder.mkdir(parents=True)
    write_batch(seed_batch(), folder / SEED_BATCH_NAME)
    return folder


def _replace_cell(row: int, column: int, value: str) -> Callable[[list[str]], list[str]]:
    def mutate(lines: list[str]) -> list[str]:
        cells = lines[row].split(",")
        cells[column] = value
        lines[row] = ",".join(cells)
        return lines

    return mutate


def _rename_header(old: str, new: str) -> Callable[[list[str]], list[str]]:
    def mutate(lines: list[str]) -> list[str]:
        lines[0] = lines[0].replace(old, new)
        return lines

    return mutate


def _drop_column(index: int) -> Callable[[list[str]], list[str]]:
    return lambda lines: [",".join(cells[:index] + cells[index + 1 :]) for cells in (line.split(",") for line in lines)]


def _add_column(lines: list[str]) -> list[str]:
    return [lines[0] + ",scanner"] + [line + ",3" for line in lines[1:]]


CASES = {
    "wrong column": (_rename_header("pixel_5,", "pixel_five,"), ["column 'pixel_5'", "missing column"]),
    "missing column": (_drop_column(10), ["column 'pixel_10'", "missing column"]),
    "extra column": (_add_column, ["column 'scanner'", "unexpected column"]),
    "wrong dtype": (_replace_cell(3, 7, "dark"), ["column 'pixel_7'", "wrong dtype", "'dark'", "line 4"]),
    "float pixel": (_replace_cell(5, 2, "3.5"), ["column 'pixel_2'", "wrong dtype", "line 6"]),
    "pixel out of range": (_replace_cell(2, 9, "17"), ["column 'pixel_9'", "out of range 0..16", "got 17", "line 3"]),
    "negative pixel": (_replace_cell(2, 9, "-1"), ["column 'pixel_9'", "out of range", "line 3"]),
    "unknown label": (_replace_cell(4, 64, "11"), ["column 'label'", "unknown label", "got 11", "line 5"]),
    "NaN": (_replace_cell(6, 20, ""), ["column 'pixel_20'", "missing value (NaN)", "line 7"]),
    "truncated": (lambda lines: [*lines[:-1], lines[-1][:20]], ["malformed row", "line 51", "truncated"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rule_names_file_column_and_rule_and_writes_nothing(raw: Path, case: str) -> None:
    """The stage exits 2, its last line names the batch file, the column and the rule; no output exists."""
    mutate, expected = CASES[case]
    write_text_batch(raw, "batch-0001-bad.csv", mutate)
    code, last = stage(raw.parents[1])
    assert code == 2, last
    assert "data/raw/batch-0001-bad.csv" in last
    for fragment in expected:
        assert fragment in last, (fragment, last)
    assert not (raw.parents[1] / "data/processed").exists()
    assert not (raw.parents[1] / "m.json").exists()


def test_empty_batch(raw: Path) -> None:
    """A batch with a header and no rows is refused."""
    (raw / "batch-0001-empty.csv").write_text(",".join(GOOD.columns) + "\n")
    code, last = stage(raw.parents[1])
    assert code == 2 and "batch-0001-empty.csv" in last and "empty batch" in last
    assert not (raw.parents[1] / "data/processed").exists()


def test_zero_byte_batch(raw: Path) -> None:
    (raw / "batch-0001-zero.csv").write_text("")
    code, last = stage(raw.parents[1])
    assert code == 2 and "batch-0001-zero.csv" in last and "empty batch" in last


def test_duplicate_batch(raw: Path) -> None:
    """The same delivery added twice under two names is refused, naming both files."""
    shutil.copy(raw / SEED_BATCH_NAME, raw / "batch-0001-again.csv")
    code, last = stage(raw.parents[1])
    assert code == 2 and "duplicate batch" in last and SEED_BATCH_NAME in last and "batch-0001-again.csv" in last
    assert not (raw.parents[1] / "data/processed").exists()


def test_non_csv_file(raw: Path) -> None:
    (raw / "notes.txt").write_text("delivered by scanner 2\n")
    code, last = stage(raw.parents[1])
    assert code == 2 and "notes.txt" in last and "not a batch file" in last


def test_valid_batches_are_split_and_written(raw: Path) -> None:
    """The happy path: both outputs and the row counts."""
    write_batch(GOOD, raw / "batch-0001-good.csv")
    code, last = stage(raw.parents[1])
    assert code == 0, last
    assert (raw.parents[1] / "data/processed/train.parquet").is_file()
    assert '"rows": 1847' in (raw.parents[1] / "m.json").read_text()


def test_compacted_batches_are_read_in_the_same_order_as_single_ones(tmp_path: Path) -> None:
    """release.partition_by moves released batches into month folders: the stage reads them in the same order by
    file name (and each is split by its name), so compaction changes nothing it computes."""
    from pipeline.dataset import batch_files

    flat, compacted = tmp_path / "flat", tmp_path / "compacted"
    names = ["batch-0000-digits.csv", "batch-0001-a.csv", "batch-0002-b.csv", "batch-0003-c.csv"]
    for folder in (flat, compacted):
        folder.mkdir()
        (folder / ".gitignore").write_text("/*.csv\n")
    for name in names:
        (flat / name).write_text(name)
        (flat / f"{name}.dvc").write_text("outs: []\n")
    for month, name in zip(["2026-12", "2026-11", "2026-12", None], names, strict=True):
        target = compacted / month if month else compacted
        target.mkdir(exist_ok=True)
        (target / name).write_text(name)
    (compacted / "2026-11.dvc").write_text("outs: []\n")

    assert [path.name for path in batch_files(flat)] == names
    assert [path.name for path in batch_files(compacted)] == names
    assert [path.read_text() for path in batch_files(compacted)] == names
