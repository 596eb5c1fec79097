"""The bare computation: the three stage functions called directly in one Python process.

    python benchmarks/bare.py DATA_RAW OUT_DIR      (run from a project root: params.yaml is read there)

Does what the three DVC stages do (validate and split, write the processed data, fit and save the model,
score it and write metrics and plot data), with no DVC, git or subprocess around it. Prints one JSON line:
seconds spent in each function group and in the imports (interpreter start-up is in the wall time only).
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

# What the stage functions use; they import it lazily, so it is imported first here and timed on its own.
LIBRARIES = ("numpy", "pandas", "pyarrow.parquet", "yaml", "joblib", "sklearn.linear_model", "sklearn.metrics")


def main() -> None:
    raw, out = Path(sys.argv[1]), Path(sys.argv[2])
    began = time.perf_counter()
    for name in LIBRARIES:
        importlib.import_module(name)
    from pipeline import evaluation, model, stages
    from pipeline.params import load_preprocessing, load_train

    timings: dict[str, float] = {"imports": time.perf_counter() - began}

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
