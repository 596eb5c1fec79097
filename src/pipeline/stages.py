"""Preparing the data, and the progress lines every stage prints. Fitting lives in `model`, scoring in `evaluation`:
only the stages that need scikit-learn import it (its import is most of a stage's start-up)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.dataset import Split, batch_files, check_no_duplicate_batches, read_batch, split_batches
from pipeline.params import PreprocessingParams

TRAIN_FILE = "train.parquet"
TEST_FILE = "test.parquet"


@contextmanager
def step(name: str) -> Iterator[None]:
    """Say what is being done and, when it is done, how long it took."""
    print(f"  {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    yield
    print(f"  {name}: done in {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Prepared:
    split: Split
    stats: dict[str, Any]


def prepare(raw: Path, params: PreprocessingParams) -> Prepared:
    """Validate every batch, then split each one; nothing is written here."""
    files = batch_files(raw)
    check_no_duplicate_batches(files)
    batches = [(path.name, read_batch(path)) for path in files]
    split = split_batches(batches, params.test_size, params.seed)
    stats = {
        "batches": len(batches),
        "rows": sum(len(frame) for _, frame in batches),
        "train_rows": len(split.train),
        "test_rows": len(split.test),
    }
    return Prepared(split=split, stats=stats)


def write_prepared(prepared: Prepared, out_dir: Path, stats_path: Path | None) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    prepared.split.train.to_parquet(out_dir / TRAIN_FILE, index=False)
    prepared.split.test.to_parquet(out_dir / TEST_FILE, index=False)
    if stats_path is not None:
        stats_path.parent.mkdir(parents=True, exist_ok=True)
        stats_path.write_text(json.dumps(prepared.stats, indent=2, sort_keys=True) + "\n")
