"""The classifier: fit and persist. Deterministic for a given seed."""

from __future__ import annotations

from pathlib import Path

import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression

from retrain.dataset import features, labels
from retrain.params import TrainParams


def fit(train: pd.DataFrame, params: TrainParams) -> LogisticRegression:
    model = LogisticRegression(C=params.C, max_iter=params.max_iter, random_state=params.seed)
    return model.fit(features(train), labels(train))


def save(model: LogisticRegression, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)


def load(path: Path) -> LogisticRegression:
    return joblib.load(path)
