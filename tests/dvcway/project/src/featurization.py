"""Stage `featurize`: the prepared rows -> data/features/{train,test}.npy, each [id, label, features...], the
features standardised on the training rows (params: featurize.max_features, the first columns kept).

python src/featurization.py data/prepared data/features
"""

import sys
from pathlib import Path

import numpy as np
import yaml


def read(path: Path, columns: int) -> np.ndarray:
    rows = [line.split("\t") for line in path.read_text().splitlines()]
    return np.array(
        [[float(ident), float(label), *map(float, values.split()[:columns])] for ident, label, values in rows]
    )


def main(prepared: Path, features: Path) -> None:
    columns = yaml.safe_load(Path("params.yaml").read_text())["featurize"]["max_features"]
    train, test = read(prepared / "train.tsv", columns), read(prepared / "test.tsv", columns)
    mean, spread = train[:, 2:].mean(axis=0), train[:, 2:].std(axis=0) + 1e-12
    features.mkdir(parents=True, exist_ok=True)
    for name, matrix in (("train", train), ("test", test)):
        matrix[:, 2:] = (matrix[:, 2:] - mean) / spread
        np.save(features / f"{name}.npy", matrix)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
