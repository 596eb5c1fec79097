"""The bare computation: the three stage functions called directly in one Python process.

    python benchmarks/bare.py DATA_RAW OUT_DIR      (run from a project root: params.yaml is read there)

Does what the three DVC stages do (validate and split, write the processed data, fit and save the model,
score it and write metrics and plot data), with no DVC, git or subprocess around it. Prints one JSON line:
seconds spent in each function group and in imports.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from retrain import evaluation, model, stages  # noqa: E402
from retrain.params import load_preprocessing, load_train  # noqa: E402


def main() -> None:
    raw, out = Path(sys.argv[1]), Path(sys.argv[2])
    imported = time.perf_counter()
    timings: dict[str, float] = {"imports": imported - STARTED}

    began = time.perf_counter()
    prepared = stages.prepare(raw, load_preprocessing())
    stages.write_prepared(prepared, out / "processed", out / "metrics" / "data.json")
    rows = prepared.stats["rows"]
    del prepared
    timings["preprocessing"] = time.perf_counter() - began

    began = time.perf_counter()
    fitted = stages.train(out / "processed", load_train())
    model.save(fitted, out / "models" / "model.joblib")
    del fitted
    timings["train"] = time.perf_counter() - began

    began = time.perf_counter()
    result = stages.evaluate(out / "models" / "model.joblib", out / "processed")
    evaluation.write(result, out / "metrics" / "metrics.json", out / "plots")
    timings["evaluate"] = time.perf_counter() - began

    timings["functions"] = timings["preprocessing"] + timings["train"] + timings["evaluate"]
    print(json.dumps({"rows": rows, "accuracy": result.metrics["accuracy"], "seconds": timings}))


if __name__ == "__main__":
    main()
