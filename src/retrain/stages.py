"""The three stage computations as plain functions: what the stage scripts run, and what benchmarks time.

Heavy libraries (pandas, scikit-learn) are imported inside the functions that use them, here and in the modules
the stage scripts import: a stage process that hands its work to the warm host (retrain.stagehost) then starts
in milliseconds, and each stage pays only for what it uses.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from retrain import stagehost
from retrain.errors import ERROR_FILE_ENV, RetrainError
from retrain.params import PreprocessingParams, TrainParams

if TYPE_CHECKING:
    from retrain import evaluation
    from retrain.dataset import Split


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
    stats: dict


def prepare(raw: Path, params: PreprocessingParams) -> Prepared:
    """Validate every batch, then split each one; nothing is written here."""
    from retrain.dataset import batch_files, check_no_duplicate_batches, read_batch, split_batches

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


def train(processed: Path, params: TrainParams):
    import pandas as pd

    from retrain import model

    return model.fit(pd.read_parquet(processed / TRAIN_FILE), params)


def evaluate(model_path: Path, processed: Path) -> evaluation.Evaluation:
    import pandas as pd

    from retrain import evaluation, model

    return evaluation.evaluate(model.load(model_path), pd.read_parquet(processed / TEST_FILE))


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage's main (in the warm host when `retrain run` started one); a RetrainError becomes one clear
    line on stderr and its exit code."""
    if (code := stagehost.delegate()) is not None:
        stagehost.exit_like(code)
    try:
        main()
    except RetrainError as error:
        print(f"error: {error}", file=sys.stderr)
        if target := os.environ.get(ERROR_FILE_ENV):  # lets `retrain run` repeat the message as its last line
            Path(target).write_text(str(error))
        raise SystemExit(error.exit_code) from None
