"""The bring-your-own-pipeline tests: the second pipeline's template (tests/byop/project) and its data file."""

from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "project"
DATA = "data/diabetes.csv"  # its one tracked data file
