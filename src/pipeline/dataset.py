"""The dataset: batch files of 8x8 digit images, their schema, validation and the train/test split.

A batch is a CSV with 64 pixel columns (integers 0..16) and a label (0..9). Raw batches are immutable
and append-only; each is split on its own with a seed derived from its name, so adding a batch never
moves an existing row between train and test, and metrics stay comparable across releases.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from pipeline.errors import DataError

PIXEL_COLUMNS: tuple[str, ...] = tuple(f"pixel_{index}" for index in range(64))
LABEL_COLUMN = "label"
COLUMNS: tuple[str, ...] = (*PIXEL_COLUMNS, LABEL_COLUMN)
PIXEL_RANGE = (0, 16)
LABELS = tuple(range(10))
BATCH_SUFFIX = ".csv"
DVC_SUFFIX = ".dvc"  # each batch is tracked by its own `<batch>.csv.dvc` beside it
SHOWN_ROWS = 5  # offending line numbers quoted in an error message


@dataclass(frozen=True)
class Split:
    train: pd.DataFrame
    test: pd.DataFrame


def _lines(indices: np.ndarray) -> str:
    """Line numbers in the file (the header is line 1) of the first offending rows."""
    shown = ", ".join(str(int(index) + 2) for index in indices[:SHOWN_ROWS])
    more = f" and {len(indices) - SHOWN_ROWS} more" if len(indices) > SHOWN_ROWS else ""
    return f"line{'s' if len(indices) > 1 else ''} {shown}{more}"


def _fail(path: Path, column: str | None, rule: str, detail: str) -> DataError:
    where = f"{path}: column '{column}'" if column else f"{path}"
    return DataError(
        f"{where}: {rule}: {detail}. Fix or remove this batch file (raw batches are immutable: "
        "deliver a corrected batch under a new name), then re-run."
    )


def check_header(path: Path, header: Sequence[str]) -> None:
    """The batch has exactly the schema's columns (in any order)."""
    missing = [column for column in COLUMNS if column not in header]
    extra = [column for column in header if column not in COLUMNS]
    duplicated = sorted({column for column in header if list(header).count(column) > 1})
    if missing:
        raise _fail(path, missing[0], "missing column", f"expected {len(COLUMNS)} columns pixel_0..pixel_63, label")
    if extra:
        raise _fail(path, extra[0], "unexpected column", "the schema has only pixel_0..pixel_63 and label")
    if duplicated:
        raise _fail(path, duplicated[0], "duplicated column", "each column must appear once")


def _diagnose_unreadable(path: Path, error: Exception) -> DataError:
    """Slow path, only on failure: find the malformed line or the non-integer value and name it."""
    with path.open() as handle:
        header = handle.readline().rstrip("\n").split(",")
        for number, line in enumerate(handle, start=2):
            fields = line.rstrip("\n").split(",")
            if len(fields) != len(header):
                return _fail(
                    path,
                    None,
                    "malformed row",
                    f"line {number} has {len(fields)} fields, expected {len(header)} (truncated or corrupt file)",
                )
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header}))
    for column in header:
        values = pd.Series(table.column(column).to_pylist(), dtype="object")
        present = values.notna() & (values != "")
        numeric = pd.to_numeric(values.where(present), errors="coerce")
        bad = present & (numeric.isna() | (numeric != numeric.round()))
        if bad.any():
            rows = np.flatnonzero(bad.to_numpy())
            example = values[rows[0]]
            return _fail(path, column, "wrong dtype", f"expected integers, got {example!r} at {_lines(rows)}")
    return _fail(path, None, "unreadable CSV", str(error).splitlines()[0])


def read_batch(path: Path) -> pd.DataFrame:
    """Read one batch and check it against the schema; the returned columns are uint8, in schema order."""
    if path.suffix != BATCH_SUFFIX:
        raise DataError(
            f"{path}: not a batch file: data/raw holds only {BATCH_SUFFIX} batches (each with its .dvc file). "
            f"Move it out of data/raw (`dvc remove {path}.dvc` if it was added), commit, then re-run."
        )
    with path.open() as handle:
        header = handle.readline().strip().split(",")
    if header == [""]:
        raise _fail(path, None, "empty batch", "the file has no header and no rows")
    check_header(path, [column.strip('"') for column in header])
    types = {column: pa.int32() for column in COLUMNS}
    try:
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))
    except (pa.ArrowInvalid, ValueError) as error:
        raise _diagnose_unreadable(path, error) from None
    if table.num_rows == 0:
        raise _fail(path, None, "empty batch", "the file has a header but no rows")
    return validate_values(path, table)


def validate_values(path: Path, table: pa.Table) -> pd.DataFrame:
    """No missing value, pixels within range, labels within the label set."""
    for column in COLUMNS:
        nulls = table.column(column).null_count
        if nulls:
            rows = np.flatnonzero(table.column(column).is_null().to_numpy(zero_copy_only=False))
            raise _fail(path, column, "missing value (NaN)", f"{nulls} empty cell(s) at {_lines(rows)}")
    low, high = PIXEL_RANGE
    data: dict[str, np.ndarray] = {}
    for column in PIXEL_COLUMNS:
        values = table.column(column).to_numpy()
        bad = np.flatnonzero((values < low) | (values > high))
        if bad.size:
            raise _fail(
                path,
                column,
                f"pixel out of range {low}..{high}",
                f"got {int(values[bad[0]])} at {_lines(bad)}",
            )
        data[column] = values.astype(np.uint8)
    labels = table.column(LABEL_COLUMN).to_numpy()
    bad = np.flatnonzero(~np.isin(labels, LABELS))
    if bad.size:
        raise _fail(
            path,
            LABEL_COLUMN,
            f"unknown label (known: {LABELS[0]}..{LABELS[-1]})",
            f"got {int(labels[bad[0]])} at {_lines(bad)}",
        )
    data[LABEL_COLUMN] = labels.astype(np.uint8)
    return pd.DataFrame(data, copy=False)


def batch_files(raw: Path) -> list[Path]:
    """Every file of a raw folder, sorted by name, but the files git and DVC keep beside the batches (dotfiles and
    each batch's `.dvc` file); a single CSV path is a one-batch dataset."""
    if raw.is_file():
        return [raw]
    if raw.suffix == ".csv" and not raw.exists():
        raise DataError(
            f"{raw}: no such file; this project's data is the batches in data/raw/ (`make retrain` fetches them)."
        )
    if not raw.is_dir():
        raise DataError(f"{raw}: no such data folder; run `dvc pull` (or `make retrain`) to fetch the data.")
    # A release may have compacted released batches into month folders (release.partition_by): read those too, in
    # the same order by file name, so that compaction changes nothing the stages compute.
    entries = [path for path in raw.iterdir() if not path.name.startswith(".")]
    entries += [
        inner for path in entries if path.is_dir() for inner in path.iterdir() if not inner.name.startswith(".")
    ]
    files = sorted(
        (path for path in entries if path.is_file() and path.suffix != DVC_SUFFIX), key=lambda path: path.name
    )
    if not files:
        raise DataError(f"{raw}: no batch files; add a batch (scripts/simulate_new_data.py) or run `dvc pull`.")
    return files


def check_no_duplicate_batches(files: Iterable[Path]) -> None:
    """Two batch files with the same bytes are one delivery added twice."""
    seen: dict[str, Path] = {}
    for path in files:
        digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
        if digest in seen:
            raise DataError(
                f"{path}: duplicate batch: same content as {seen[digest]}. Remove one of them (`dvc remove "
                f"{path}.dvc`), commit, then re-run."
            )
        seen[digest] = path


def holdout_mask(batch_name: str, rows: int, test_size: float, seed: int) -> np.ndarray:
    """Which rows of a batch are held out: fixed by the batch's name and the seed, not by other batches."""
    rng = np.random.default_rng([seed, zlib.crc32(batch_name.encode())])
    return rng.random(rows) < test_size


def split_batches(batches: Sequence[tuple[str, pd.DataFrame]], test_size: float, seed: int) -> Split:
    """Split each batch on its own, then concatenate the parts."""
    trains, tests = [], []
    for name, frame in batches:
        mask = holdout_mask(name, len(frame), test_size, seed)
        tests.append(frame[mask])
        trains.append(frame[~mask])
    train = pd.concat(trains, ignore_index=True)
    test = pd.concat(tests, ignore_index=True)
    return Split(train=train, test=test)


def features(frame: pd.DataFrame) -> np.ndarray:
    """Pixels scaled to 0..1 as float32: the model's input.

    C-contiguous (scikit-learn's solver would otherwise copy it) and scaled in place: at its peak this holds one
    float32 matrix, not three (pandas hands the uint8 block over column-major; `/` would make another copy).
    """
    pixels = np.ascontiguousarray(frame[list(PIXEL_COLUMNS)].to_numpy())
    scaled = pixels.astype(np.float32)
    del pixels
    scaled /= np.float32(PIXEL_RANGE[1])
    return scaled


def labels(frame: pd.DataFrame) -> np.ndarray:
    found: np.ndarray = frame[LABEL_COLUMN].to_numpy(dtype=np.int64)  # pandas is untyped: this says what it gives
    return found


def write_batch(frame: pd.DataFrame, path: Path) -> None:
    """Write a batch CSV byte-for-byte the same on every machine: plain integers, no quoting."""
    table = pa.Table.from_pandas(frame[list(COLUMNS)].astype(np.uint8), preserve_index=False)
    with path.open("wb") as sink:
        sink.write((",".join(COLUMNS) + "\n").encode())  # pyarrow would quote the header
        pacsv.write_csv(table, sink, write_options=pacsv.WriteOptions(include_header=False))
