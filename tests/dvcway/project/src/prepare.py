"""Stage `prepare`: the XML rows -> data/prepared/{train,test}.tsv (params: prepare.split, prepare.seed).

python src/prepare.py data/data.xml
"""

import random
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml


def main(source: Path) -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())["prepare"]
    draw = random.Random(params["seed"])  # noqa: S311 (a reproducible split, not a secret)
    output = Path("data") / "prepared"
    output.mkdir(parents=True, exist_ok=True)
    rows = ET.parse(source).getroot().iter("row")  # noqa: S314 (the project's own raw file)
    with (output / "train.tsv").open("w") as train, (output / "test.tsv").open("w") as test:
        for row in rows:
            line = f"{row.get('Id')}\t{row.get('Malignant')}\t{row.get('Features')}\n"
            (test if draw.random() < params["split"] else train).write(line)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
