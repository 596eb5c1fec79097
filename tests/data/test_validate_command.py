"""`python -m pipeline.validate FILE...`: the pipeline's data rules for deliveries, one JSON line per file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeline.dataset import write_batch
from pipeline.digits import seed_batch
from tests.helpers import sh

GOOD = seed_batch().head(40)


def validate(cwd: Path, *names: str) -> tuple[int, list[dict]]:
    result = sh([sys.executable, "-m", "pipeline.validate", *names], cwd, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()]


def test_every_file_valid_exits_0(tmp_path: Path) -> None:
    write_batch(GOOD, tmp_path / "a.csv")
    write_batch(GOOD.head(10), tmp_path / "b.csv")
    code, lines = validate(tmp_path, "a.csv", "b.csv")
    assert code == 0
    assert lines == [{"file": "a.csv", "error": None}, {"file": "b.csv", "error": None}]


def test_each_bad_file_gets_its_reason_in_order_and_exit_2(tmp_path: Path) -> None:
    write_batch(GOOD, tmp_path / "good.csv")
    bad = GOOD.copy()
    bad.loc[3, "label"] = 12
    bad.to_csv(tmp_path / "bad.csv", index=False)
    (tmp_path / "notes.txt").write_text("hello\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00garbage")
    names = ["good.csv", "bad.csv", "notes.txt", "empty.csv", "binary.csv", "gone.csv"]
    code, lines = validate(tmp_path, *names)
    assert code == 2
    assert [line["file"] for line in lines] == names
    errors = {line["file"]: line["error"] for line in lines}
    assert errors["good.csv"] is None
    assert errors["bad.csv"].startswith("bad.csv: column 'label': unknown label")
    assert "line 5" in errors["bad.csv"]
    assert errors["notes.txt"].startswith("notes.txt: not a CSV batch")
    assert "empty batch" in errors["empty.csv"]
    assert errors["binary.csv"].startswith("binary.csv: ")
    assert errors["gone.csv"].startswith("gone.csv: cannot be read")
    assert all("\n" not in (error or "") for error in errors.values())


def test_no_file_is_a_usage_error(tmp_path: Path) -> None:
    result = sh([sys.executable, "-m", "pipeline.validate"], tmp_path, check=False)
    assert result.returncode == 2 and "usage" in result.stderr
