"""Issue 23, stop 8: `retrain releases` fits its content. No header is cut, no `?` is shown, a key with no value
is an en dash (releases.MISSING). Pure: Release records in, text out."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from retrain.history.model import Release, StageHeld
from retrain.releases import releases_table

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_.", min_size=1, max_size=30)


def release(tag: str, metrics: dict[str, float], rows: int | None, stages: list[StageHeld] | None = None) -> Release:
    return Release(
        tag=tag,
        version=tag.split("@")[1],
        date="2026-12-01T10:00:00+00:00",
        commit="0123456789abcdef",
        bump=None,
        reasons=[],
        rows=rows,
        data_hash=None,
        environment=None,
        params_changed=[],
        note=None,
        run_url=None,
        pull_requests=[],
        metrics=metrics,
        stages=stages or [],
    )


def columns(table: str) -> tuple[list[str], list[list[str]]]:
    header, *rows = table.splitlines()
    return header.split(), [row.split() for row in rows]


def test_long_metric_names_and_missing_values() -> None:
    newest = release("model@v1.1.0", {"avg_prec.test": 0.8123, "roc_auc.test": 0.9}, rows=None)
    held = [StageHeld("prod", "2026-12-02", "model#prod#1")]
    oldest = release("model@v1.0.0", {"avg_prec.test": 0.75}, rows=1797, stages=held)
    table = releases_table([newest, oldest])
    header, rows = columns(table)
    assert header[:5] == ["tag", "date", "rows", "avg_prec.test", "roc_auc.test"]
    assert "?" not in table
    assert rows[0][2] == "–" and rows[0][3:5] == ["0.8123", "0.9000"]
    assert rows[1][2:5] == ["1,797", "0.7500", "–"]
    lines = table.splitlines()
    for name in ("rows", "avg_prec.test", "roc_auc.test"):  # right-aligned: every value ends where its header does
        end = lines[0].index(name) + len(name)
        assert all(line[end - 1] != " " and line[end] == " " for line in lines[1:]), table


@given(st.lists(NAMES, min_size=1, max_size=3, unique=True))
def test_no_header_is_ever_cut(names: list[str]) -> None:
    table = releases_table([release("model@v1.0.0", dict.fromkeys(names, 0.5), rows=None)])
    header = table.splitlines()[0].split()
    assert all(name in header for name in names)
