"""DVC stage `evaluate`: model + held-out rows -> metrics JSON and plot data.

python -m pipeline.evaluate models/model.joblib data/processed metrics/metrics.json plots
"""

import argparse
from pathlib import Path

from pipeline.errors import run_stage
from pipeline.evaluation import score, write
from pipeline.stages import step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("processed", type=Path, help="folder with test.parquet")
    parser.add_argument("metrics", type=Path, help="metrics JSON to write")
    parser.add_argument("plots", type=Path, help="folder for plot data")
    args = parser.parse_args()
    with step(f"evaluate: score {args.model}"):
        result = score(args.model, args.processed)
    write(result, args.metrics, args.plots)
    print(f"evaluate: accuracy {result.metrics['accuracy']:.4f}, macro F1 {result.metrics['f1_macro']:.4f}")


if __name__ == "__main__":
    run_stage(main)
