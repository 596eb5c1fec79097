"""Where the data comes from: scikit-learn's bundled 8x8 digits (no download), and realistic new batches."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

from retrain.dataset import COLUMNS, LABEL_COLUMN, LABELS, PIXEL_COLUMNS, PIXEL_RANGE

SEED_BATCH_NAME = "batch-0000-digits.csv"
IMAGE_SIDE = 8


def seed_batch() -> pd.DataFrame:
    """The first batch: all 1,797 digits of scikit-learn's bundled dataset, identical on every machine."""
    digits = load_digits()
    frame = pd.DataFrame(digits.data.astype(np.uint8), columns=list(PIXEL_COLUMNS))
    frame[LABEL_COLUMN] = digits.target.astype(np.uint8)
    return frame[list(COLUMNS)]


def augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shift each 8x8 image by up to one pixel each way and add +-1 grey-level noise, like a new scanner."""
    count = images.shape[0]
    grids = images.reshape(count, IMAGE_SIDE, IMAGE_SIDE).astype(np.int16)
    shifted = np.zeros_like(grids)
    dy = rng.integers(-1, 2, size=count)
    dx = rng.integers(-1, 2, size=count)
    for sy in (-1, 0, 1):
        for sx in (-1, 0, 1):
            chosen = (dy == sy) & (dx == sx)
            if chosen.any():
                rolled = np.roll(grids[chosen], shift=(sy, sx), axis=(1, 2))
                # zero the wrapped-around edge: a shifted scan has blank borders, not the other side
                if sy == 1:
                    rolled[:, 0, :] = 0
                if sy == -1:
                    rolled[:, -1, :] = 0
                if sx == 1:
                    rolled[:, :, 0] = 0
                if sx == -1:
                    rolled[:, :, -1] = 0
                shifted[chosen] = rolled
    noise = rng.integers(-1, 2, size=shifted.shape, dtype=np.int16)
    low, high = PIXEL_RANGE
    return np.clip(shifted + noise, low, high).astype(np.uint8).reshape(count, IMAGE_SIDE * IMAGE_SIDE)


def corrupt_labels(labels: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Replace a fraction of labels by a different, random label: a bad delivery."""
    corrupted = labels.copy()
    chosen = np.flatnonzero(rng.random(len(labels)) < fraction)
    offsets = rng.integers(1, len(LABELS), size=chosen.size)
    corrupted[chosen] = (labels[chosen] + offsets) % len(LABELS)
    return corrupted


def simulate_batch(rows: int, label_noise: float, seed: int) -> pd.DataFrame:
    """`rows` new samples drawn from the digits, augmented, with `label_noise` of their labels wrong."""
    rng = np.random.default_rng(seed)
    source = seed_batch()
    picks = rng.integers(0, len(source), size=rows)
    images = augment(source[list(PIXEL_COLUMNS)].to_numpy()[picks], rng)
    labels = corrupt_labels(source[LABEL_COLUMN].to_numpy()[picks], label_noise, rng)
    frame = pd.DataFrame(images, columns=list(PIXEL_COLUMNS))
    frame[LABEL_COLUMN] = labels.astype(np.uint8)
    return frame
