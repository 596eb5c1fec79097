"""DVC stage `train`: processed data -> model.

python src/train.py data/processed models/model.joblib
python src/train.py data           # the seed's form: reads data/train.parquet, writes data/model.joblib
"""

import argparse
from pathlib import Path

from retrain.model import save
from retrain.params import load_train
from retrain.stages import run_stage, step, train


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
