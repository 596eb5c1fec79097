"""Stage `train`: data/features/train.pkl -> a random forest (params: train.seed, train.n_est, train.min_split).

python src/train.py data/features model.pkl
"""

import sys
from pathlib import Path

import joblib
import numpy as np
import yaml
from sklearn.ensemble import RandomForestClassifier


def main(features: Path, model_file: Path) -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())["train"]
    matrix = np.load(features / "train.npy")
    model = RandomForestClassifier(
        n_estimators=params["n_est"], min_samples_split=params["min_split"], random_state=params["seed"], n_jobs=1
    )
    model.fit(matrix[:, 2:], matrix[:, 1].astype(int))
    joblib.dump(model, model_file)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
