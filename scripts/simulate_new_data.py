"""Append one new batch of realistic digits to data/raw (shifted, noisy scans), optionally with bad labels; or drop it,
as an upstream system would, into a landing location that `retrain ingest` reads.

python scripts/simulate_new_data.py --rows 500
python scripts/simulate_new_data.py --rows 1000 --label-noise 0.4 --seed 7   # a bad delivery
python scripts/simulate_new_data.py --rows 500 --to s3://dvc-exemplar/landing/   # a delivery in the landing
python scripts/simulate_new_data.py --rows 50 --to drops/landing --corrupt       # one ingest quarantines
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

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


def delivery_name(seed: int, corrupt: bool, now: datetime | None = None) -> str:
    """`<UTC time>-simulated-seed<N>.csv`: keys that sort in arrival order, as the landing's contract asks."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment.strftime('%Y%m%dT%H%M%S%fZ')}-simulated-seed{seed}{'-corrupt' if corrupt else ''}.csv"


def drop(to: str, rows: int, label_noise: float, seed: int, corrupt: bool, endpoint_url: str | None) -> str:
    """Write one delivery into a landing folder or S3 prefix; where it went."""
    name = delivery_name(seed, corrupt)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        frame = simulate_batch(rows, label_noise, seed)
        if corrupt:  # an unknown label on one line: the schema refuses the whole delivery
            frame = frame.astype("int64")
            frame.loc[min(3, rows - 1), "label"] = 12
            frame.to_csv(path, index=False)
        else:
            write_batch(frame, path)
        if not to.startswith("s3://"):
            target = Path(to) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{name}.partial")  # dotfiles are not deliveries: never half-read
            partial.write_bytes(path.read_bytes())
            partial.rename(target)
            return str(target)
        import boto3

        parsed = urlparse(to)
        key = f"{parsed.path.lstrip('/').rstrip('/')}/{name}".lstrip("/")
        boto3.client("s3", endpoint_url=endpoint_url).upload_file(str(path), parsed.netloc, key)
        return f"s3://{parsed.netloc}/{key}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, required=True, help="how many samples the new batch holds")
    parser.add_argument("--label-noise", type=float, default=0.0, help="fraction of labels made wrong (0..1)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (the same seed gives the same batch)")
    parser.add_argument("--raw", type=Path, default=Path("data/raw"), help="raw data folder")
    parser.add_argument("--to", help="drop the delivery into a landing instead: a folder or s3://bucket/prefix/")
    parser.add_argument("--corrupt", action="store_true", help="with --to: a delivery that breaks the schema")
    parser.add_argument("--endpoint-url", help="with --to s3://...: an S3-compatible endpoint (else AWS_ENDPOINT_URL)")
    args = parser.parse_args()
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    if not 0.0 <= args.label_noise <= 1.0:
        parser.error("--label-noise must be between 0 and 1")
    if args.corrupt and not args.to:
        parser.error("--corrupt needs --to: data/raw only takes valid batches")
    started = time.perf_counter()
    if args.to:
        where = drop(args.to, args.rows, args.label_noise, args.seed, args.corrupt, args.endpoint_url)
        print(f"delivered {where} ({args.rows:,} rows) in {time.perf_counter() - started:.1f}s")
        print(f"next: retrain ingest {args.to}")
        return
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
