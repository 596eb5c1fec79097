"""The third pipeline's tests: a project laid out as DVC's get-started project and dvclive lay one out
(tests/dvcway/project), released by the engine as it is."""

from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "project"
DATA = "data/data.xml"  # its one raw file
ARTIFACT = "tumor-classifier"  # the model under dvc.yaml `artifacts:` (beside a dataset artifact)
METRICS = "eval/metrics.json"  # dvclive's, inside the cached output folder eval/
