"""DVC stage `preprocessing`: raw batches -> validated train/test feature data.

python -m pipeline.preprocessing data/raw data/processed --stats metrics/data.json
python -m pipeline.preprocessing data/data.csv         # the seed's form: writes data/train.parquet, data/test.parquet
"""

import argparse
from pathlib import Path

from pipeline.errors import run_stage
from pipeline.params import load_preprocessing
from pipeline.stages import prepare, step, write_prepared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("raw", type=Path, help="folder of raw batch CSVs, or one CSV file")
    parser.add_argument("out", type=Path, nargs="?", help="output folder (default: the CSV's folder)")
    parser.add_argument("--stats", type=Path, help="where to write row counts as JSON")
    args = parser.parse_args()
    out = args.out or (args.raw.parent if args.raw.is_file() else args.raw)
    params = load_preprocessing()
    with step(f"preprocessing: validate and split {args.raw}"):
        prepared = prepare(args.raw, params)
    write_prepared(prepared, out, args.stats)
    print(f"preprocessing: {prepared.stats['rows']:,} rows from {prepared.stats['batches']} batch(es) -> {out}")


if __name__ == "__main__":
    run_stage(main)
