"""The seed's second command, as it was typed: `python src/train.py data` fits the model on data/train.parquet and
writes data/model.joblib. A thin entry point over the `train` stage (`python -m pipeline.train`), which `dvc repro`
runs on data/processed/."""

from pipeline.errors import run_stage
from pipeline.train import main

if __name__ == "__main__":
    run_stage(main)
