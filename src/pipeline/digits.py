"""Where the data comes from: scikit-learn's bundled 8x8 digits (no download), and realistic new batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

from pipeline.dataset import COLUMNS, LABEL_COLUMN, LABELS, PIXEL_COLUMNS, PIXEL_RANGE, write_batch

SEED_BATCH_NAME = "batch-0000-digits.csv"
IMAGE_SIDE = 8
SHIFT_SHARE = 0.2  # share of simulated images shifted by one pixel
NOISY_PIXEL_SHARE = 0.2  # share of pixels off by one grey level


def seed_batch() -> pd.DataFrame:
    """The first batch: all 1,797 digits of scikit-learn's bundled dataset, identical on every machine."""
    digits = load_digits()
    frame = pd.DataFrame(digits.data.astype(np.uint8), columns=list(PIXEL_COLUMNS))
    frame[LABEL_COLUMN] = digits.target.astype(np.uint8)
    return frame[list(COLUMNS)]


def augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Like a second scanner: some images shifted one pixel sideways, some pixels off by one grey level."""
    count = images.shape[0]
    grids = images.reshape(count, IMAGE_SIDE, IMAGE_SIDE).astype(np.int16)
    shifted = rng.random(count) < SHIFT_SHARE
    direction = rng.choice(np.array([-1, 1]), size=count)
    for step in (-1, 1):
        chosen = shifted & (direction == step)
        rolled = np.roll(grids[chosen], step, axis=2)
        rolled[:, :, 0 if step == 1 else -1] = 0  # a shifted scan has a blank border, not the other side
        grids[chosen] = rolled
    noise = rng.integers(-1, 2, size=grids.shape, dtype=np.int16) * (rng.random(grids.shape) < NOISY_PIXEL_SHARE)
    low, high = PIXEL_RANGE
    return (grids + noise).clip(low, high).astype(np.uint8).reshape(count, IMAGE_SIDE * IMAGE_SIDE)


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


def main() -> None:
    """`python -m pipeline.digits FOLDER`: write the first batch there (the engine's `release.seed_command`)."""
    import argparse

    parser = argparse.ArgumentParser(description="Write the bundled first batch of digits into a raw-data folder.")
    parser.add_argument("folder", type=Path)
    folder = parser.parse_args().folder
    folder.mkdir(parents=True, exist_ok=True)
    write_batch(seed_batch(), folder / SEED_BATCH_NAME)
    print(f"wrote {folder / SEED_BATCH_NAME} from scikit-learn's bundled digits")


if __name__ == "__main__":
    main()
