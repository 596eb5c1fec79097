"""The classifier: fit and persist. Deterministic for a given seed."""

from __future__ import annotations

from pathlib import Path

import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from pipeline.dataset import features, labels
from pipeline.params import TrainParams
from pipeline.stages import TRAIN_FILE


def fit(train: pd.DataFrame, params: TrainParams) -> LogisticRegression:
    model = LogisticRegression(C=params.C, max_iter=params.max_iter, random_state=params.seed)
    # One BLAS/OpenMP thread: 64 features x 10 classes is too small a product for threads to pay, and on a busy
    # runner idle OpenBLAS threads spin (see benchmarks/).
    with threadpool_limits(limits=1):
        return model.fit(features(train), labels(train))


def save(model: LogisticRegression, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)


def load(path: Path) -> LogisticRegression:
    return joblib.load(path)


def train(processed: Path, params: TrainParams) -> LogisticRegression:
    """Fit on the training split that the preprocessing stage wrote to `processed`."""
    return fit(pd.read_parquet(processed / TRAIN_FILE), params)
