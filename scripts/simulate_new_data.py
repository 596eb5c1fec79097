"""Append one new batch of realistic digits to data/raw (shifted, noisy scans), optionally with bad labels.

python scripts/simulate_new_data.py --rows 500
python scripts/simulate_new_data.py --rows 1000 --label-noise 0.4 --seed 7   # a bad delivery
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from pipeline.dataset import write_batch
from pipeline.digits import simulate_batch

CHUNK_ROWS = 250_000  # large batches are made and written in chunks, with progress


def next_batch_path(raw: Path, seed: int) -> Path:
    """batch-NNNN-...: numbered after the last batch (its .dvc file counts: the data need not be pulled), so names
    sort in delivery order."""
    names = {path.name.removesuffix(".dvc") for path in raw.glob("batch-*.csv*")}
    numbers = [int(name.split("-")[1]) for name in names if name.split("-")[1].isdigit()]
    return raw / f"batch-{max(numbers, default=-1) + 1:04d}-simulated-seed{seed}.csv"


def simulate(raw: Path, rows: int, label_noise: float, seed: int) -> Path:
    raw.mkdir(parents=True, exist_ok=True)
    target = next_batch_path(raw, seed)
    parts = []
    started = time.perf_counter()
    for index, start in enumerate(range(0, rows, CHUNK_ROWS)):
        count = min(CHUNK_ROWS, rows - start)
        parts.append(simulate_batch(count, label_noise, seed + index))
        if rows > CHUNK_ROWS:
            done = start + count
            print(f"  {done:,}/{rows:,} rows ({time.perf_counter() - started:.1f}s)", file=sys.stderr, flush=True)
    partial = target.with_suffix(".partial")  # never leave a half-written batch under a batch name
    write_batch(pd.concat(parts, ignore_index=True), partial)
    partial.rename(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, required=True, help="how many samples the new batch holds")
    parser.add_argument("--label-noise", type=float, default=0.0, help="fraction of labels made wrong (0..1)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (the same seed gives the same batch)")
    parser.add_argument("--raw", type=Path, default=Path("data/raw"), help="raw data folder")
    args = parser.parse_args()
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    if not 0.0 <= args.label_noise <= 1.0:
        parser.error("--label-noise must be between 0 and 1")
    started = time.perf_counter()
    path = simulate(args.raw, args.rows, args.label_noise, args.seed)
    print(
        f"wrote {path} ({args.rows:,} rows, label noise {args.label_noise:.0%}) in {time.perf_counter() - started:.1f}s"
    )
    print("next steps:")
    print(f"  dvc add {path}")
    print(f"  git add {path}.dvc && git commit -m 'data: add {path.name}'")
    print("  dvc push            # or let `make retrain` / CI do it")


if __name__ == "__main__":
    main()
