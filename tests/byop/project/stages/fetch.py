"""Write scikit-learn's diabetes data (bundled with the library: no download) as one CSV file.

python stages/fetch.py data/diabetes.csv
"""

import sys
from pathlib import Path

from sklearn.datasets import load_diabetes


def main(target: Path) -> None:
    frame = load_diabetes(as_frame=True).frame
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=False, float_format="%.10g")
    print(f"wrote {target} ({len(frame)} rows)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
