"""Stage `fit`: train.csv -> a ridge regression, scored on test.csv (params: fit.alpha).

python stages/fit.py data/split models/regressor.joblib metrics/scores.json
"""

import json
import sys
from pathlib import Path

import joblib
import pandas as pd
import yaml
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

TARGET = "target"


def main(split: Path, model_file: Path, scores_file: Path) -> None:
    alpha = yaml.safe_load(Path("params.yaml").read_text())["fit"]["alpha"]
    train, test = pd.read_csv(split / "train.csv"), pd.read_csv(split / "test.csv")
    model = Ridge(alpha=alpha).fit(train.drop(columns=TARGET), train[TARGET])
    predicted = model.predict(test.drop(columns=TARGET))
    scores = {
        "rmse": round(float(mean_squared_error(test[TARGET], predicted) ** 0.5), 4),
        "mae": round(float(mean_absolute_error(test[TARGET], predicted)), 4),
        "r2": round(float(r2_score(test[TARGET], predicted)), 4),
        "rows_scored": len(test),
    }
    model_file.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_file)
    scores_file.parent.mkdir(parents=True, exist_ok=True)
    scores_file.write_text(json.dumps(scores, indent=2) + "\n")
    print(f"fit: rmse {scores['rmse']}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
