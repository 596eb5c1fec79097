"""Write the raw data: scikit-learn's bundled breast-cancer data (no download) as XML rows, shuffled with a seed
and with a share of the diagnoses flipped, so that the model has something to get wrong.

python src/generate.py data/data.xml
"""

import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
from sklearn.datasets import load_breast_cancer

SEED = 20170428
FLIPPED = 0.08


def main(target: Path) -> None:
    bunch = load_breast_cancer()
    generator = np.random.default_rng(SEED)
    order = generator.permutation(len(bunch.target))
    flipped = generator.random(len(order)) < FLIPPED
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<diagnoses>"]
    for number, row in enumerate(order):
        label = int(bunch.target[row]) ^ int(flipped[number])
        values = " ".join(f"{value:.6g}" for value in bunch.data[row])
        lines.append(f'  <row Id="{number}" Malignant="{1 - label}" Features={quoteattr(values)} />')
    lines.append("</diagnoses>")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n")
    print(f"wrote {target} ({len(order)} rows)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
