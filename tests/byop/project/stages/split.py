"""Stage `split`: the data file -> train.csv and test.csv (params: split.holdout, split.seed).

python stages/split.py data/diabetes.csv data/split
"""

import sys
from pathlib import Path

import pandas as pd
import yaml
from sklearn.model_selection import train_test_split


def main(source: Path, target: Path) -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())["split"]
    frame = pd.read_csv(source)
    train, test = train_test_split(frame, test_size=params["holdout"], random_state=params["seed"])
    target.mkdir(parents=True, exist_ok=True)
    train.to_csv(target / "train.csv", index=False)
    test.to_csv(target / "test.csv", index=False)
    print(f"split: {len(train)} rows to fit, {len(test)} to score")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
