"""DVC stage `train`: processed data -> model.

python -m pipeline.train data/processed models/model.joblib
python -m pipeline.train data         # the seed's form: reads data/train.parquet, writes data/model.joblib
"""

import argparse
from pathlib import Path

from pipeline.errors import run_stage
from pipeline.model import save, train
from pipeline.params import load_train
from pipeline.stages import step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("processed", type=Path, help="folder with train.parquet")
    parser.add_argument("model", type=Path, nargs="?", help="model file (default: PROCESSED/model.joblib)")
    args = parser.parse_args()
    params = load_train()
    with step(f"train: fit on {args.processed}"):
        model = train(args.processed, params)
    target = args.model or args.processed / "model.joblib"
    save(model, target)
    print(f"train: model -> {target}")


if __name__ == "__main__":
    run_stage(main)
