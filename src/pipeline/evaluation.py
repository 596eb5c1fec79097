"""Scores of a model on the held-out rows: metrics for `dvc metrics`, plot data for `dvc plots`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from pipeline import model
from pipeline.dataset import LABELS, features, labels
from pipeline.stages import TEST_FILE

DIGITS = 4  # metrics are rounded so that the JSON is stable and diffs read well


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, Any]
    confusion: pd.DataFrame  # one row per test sample: actual, predicted (DVC's confusion template)
    per_class: pd.DataFrame  # one row per class: precision, recall, f1, support


def evaluate(classifier: LogisticRegression, test: pd.DataFrame) -> Evaluation:
    truth = labels(test)
    predicted = classifier.predict(features(test))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(LABELS), zero_division=0
    )
    per_class = pd.DataFrame(
        {"digit": list(LABELS), "precision": precision, "recall": recall, "f1": f1, "support": support}
    ).round(DIGITS)
    metrics = {
        "accuracy": round(float(accuracy_score(truth, predicted)), DIGITS),
        "f1_macro": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), DIGITS),
        "test_rows": len(test),
        "per_class_f1": {str(row.digit): float(row.f1) for row in per_class.itertuples()},
    }
    confusion = pd.DataFrame({"actual": truth, "predicted": np.asarray(predicted)})
    return Evaluation(metrics=metrics, confusion=confusion, per_class=per_class)


def write(evaluation: Evaluation, metrics_path: Path, plots_dir: Path) -> None:
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    plots_dir.mkdir(parents=True, exist_ok=True)
    metrics_path.write_text(json.dumps(evaluation.metrics, indent=2, sort_keys=True) + "\n")
    evaluation.confusion.to_csv(plots_dir / "confusion.csv", index=False)
    evaluation.per_class.to_csv(plots_dir / "per_class.csv", index=False)


def score(model_path: Path, processed: Path) -> Evaluation:
    """Score the saved model on the held-out split that the preprocessing stage wrote to `processed`."""
    return evaluate(model.load(model_path), pd.read_parquet(processed / TEST_FILE))
