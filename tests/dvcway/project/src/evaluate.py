"""Stage `evaluate`: the model on both splits, logged with dvclive into eval/ (metrics.json with nested
{"avg_prec": {"train": .., "test": ..}, "roc_auc": {..}}, JSON plots under eval/plots/sklearn, an image).

python src/evaluate.py model.pkl data/features
"""

import sys
from pathlib import Path

import joblib
import matplotlib
import numpy as np
from dvclive import Live
from sklearn import metrics

matplotlib.use("Agg")  # no display on a CI runner
import matplotlib.pyplot as plt

EVAL_PATH = "eval"


def evaluate(model, matrix, split: str, live: Live) -> None:
    labels = matrix[:, 1].astype(int)
    predictions_by_class = model.predict_proba(matrix[:, 2:])
    predictions = predictions_by_class[:, 1]
    if not live.summary:
        live.summary = {"avg_prec": {}, "roc_auc": {}}
    live.summary["avg_prec"][split] = metrics.average_precision_score(labels, predictions)
    live.summary["roc_auc"][split] = metrics.roc_auc_score(labels, predictions)
    live.log_sklearn_plot("roc", labels, predictions, name=f"roc/{split}.json")
    live.log_sklearn_plot("precision_recall", labels, predictions, name=f"prc/{split}.json", drop_intermediate=True)
    live.log_sklearn_plot("confusion_matrix", labels, predictions_by_class.argmax(-1), name=f"cm/{split}.json")


def main(model_file: Path, features: Path) -> None:
    model = joblib.load(model_file)
    matrices = {split: np.load(features / f"{split}.npy") for split in ("train", "test")}
    with Live(EVAL_PATH, dvcyaml=False) as live:
        for split, matrix in matrices.items():
            evaluate(model, matrix, split, live)
        figure, axis = plt.subplots(figsize=(4, 3))
        axis.bar(range(len(model.feature_importances_)), model.feature_importances_)
        axis.set(xlabel="feature", ylabel="importance")
        figure.tight_layout()
        live.log_image("importance.png", figure)
        plt.close(figure)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
