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
    random.seed(params["seed"])
    output = Path("data") / "prepared"
    output.mkdir(parents=True, exist_ok=True)
    rows = ET.parse(source).getroot().iter("row")
    with (output / "train.tsv").open("w") as train, (output / "test.tsv").open("w") as test:
        for row in rows:
            line = f"{row.get('Id')}\t{row.get('Malignant')}\t{row.get('Features')}\n"
            (test if random.random() < params["split"] else train).write(line)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
