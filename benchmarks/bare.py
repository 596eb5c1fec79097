"""The bare computation: the three stage functions called directly in one Python process.

    PYTHONPATH=src python benchmarks/bare.py DATA_RAW OUT_DIR      (from a project root: params.yaml is read there)

Does what the three DVC stages do (validate and split, write the processed data, fit and save the model, score it
and write metrics and plot data), with no DVC, git or subprocess around it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeline import evaluation, model, stages
from pipeline.params import load_preprocessing, load_train


def main() -> None:
    raw, out = Path(sys.argv[1]), Path(sys.argv[2])
    prepared = stages.prepare(raw, load_preprocessing())
    stages.write_prepared(prepared, out / "processed", out / "metrics" / "data.json")
    del prepared
    model.save(model.train(out / "processed", load_train()), out / "models" / "model.joblib")
    result = evaluation.score(out / "models" / "model.joblib", out / "processed")
    evaluation.write(result, out / "metrics" / "metrics.json", out / "plots")
    print(json.dumps({"accuracy": result.metrics["accuracy"]}))


if __name__ == "__main__":
    main()
