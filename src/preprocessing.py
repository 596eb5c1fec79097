"""The seed's first command, as it was typed: `python src/preprocessing.py data/data.csv` splits a CSV of this schema
into data/train.parquet and data/test.parquet. A thin entry point over the `preprocessing` stage
(`python -m pipeline.preprocessing`), which `dvc repro` runs on data/raw/."""

from pipeline.errors import run_stage
from pipeline.preprocessing import main

if __name__ == "__main__":
    run_stage(main)
