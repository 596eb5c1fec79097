"""The history page's pure parts: the tags' messages read back, stage timelines, the page's escaping of anything
from outside (hypothesis), and the cost rule (a fixed number of processes however many releases)."""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from retrain.gitops import object_reader
from retrain.history import lineage, stages
from retrain.history.collect import collect
from retrain.history.model import (
    Gate,
    GatedRun,
    GatedRuns,
    History,
    ParamChange,
    Point,
    PullRequest,
    Reason,
    Release,
    Serving,
    StageAction,
    StageEvent,
    StageHeld,
    StageHistory,
    Trend,
    to_json,
)
from retrain.history.page import render
from retrain.versioning import Assignment, AssignmentAction, Lineage, assignment_message, tag_message
from tests.helpers.history import accuracy, synthetic_history

# A note's own last line could read like the `ci run:` line that follows it; the reader takes that line as the run.
notes = st.text(min_size=1).filter(lambda text: text == text.rstrip("\n") and "\r" not in text)


@given(note=notes)
@example(note="note:\nparams:\nmetrics:\n  x: 1")
def test_a_release_tags_lineage_reads_back_as_written(note: str) -> None:
    lineage_ = Lineage("abc", "d41d.dir", 1797, 1, {"train.C": 0.5}, {"accuracy": 0.9}, note, "https://ci/run/1")
    read = lineage.read_release(tag_message("model@v1.0.0", lineage_))
    assert read is not None
    assert (read.commit, read.data_hash, read.rows, read.params) == ("abc", "d41d.dir", 1797, {"train.C": "0.5"})
    assert (read.note, read.run_url) == (note, "https://ci/run/1")


def test_a_tag_without_the_engines_lineage_is_said_to_have_none() -> None:
    assert lineage.read_release("a hand-made tag\n") is None and lineage.read_release(None) is None


@given(note=notes | st.none(), by=st.text(min_size=1).filter(lambda t: "\n" not in t and "\r" not in t))
def test_a_stage_tags_assignment_reads_back_as_written(note: str | None, by: str) -> None:
    made = Assignment(AssignmentAction.ROLLBACK, "prod", "model@v1.0.0", "model@v1.1.0", by, note, "url")
    read = lineage.read_stage(assignment_message(made))
    assert (read.action, read.previous, read.by, read.note, read.run_url) == (
        AssignmentAction.ROLLBACK,
        "model@v1.1.0",
        by,
        note,
        "url",
    )


def _event(version: str, action: StageAction, at: int) -> stages.Tagged:
    event = StageEvent(
        "prod", action, version, f"2026-01-01T00:00:{at:02d}+00:00", f"model#prod#{at}", "me", None, None, None
    )
    return stages.Tagged(event, at, at)


def test_a_promotion_another_and_a_rollback_make_three_spans_and_the_holder_gto_names() -> None:
    tagged = [
        _event("v1.0.0", StageAction.PROMOTE, 1),
        _event("v1.0.0", StageAction.UNASSIGN, 2),
        _event("v1.1.0", StageAction.PROMOTE, 3),
        _event("v1.1.0", StageAction.UNASSIGN, 4),
        _event("v1.0.0", StageAction.ROLLBACK, 5),
    ]
    history = stages.timeline("prod", tagged, retired=())
    assert [(span.version, span.end is None) for span in history.spans] == [
        ("v1.0.0", False),
        ("v1.1.0", False),
        ("v1.0.0", True),
    ]
    assert history.now == "v1.0.0"
    assert stages.held_now([history], retired=())["v1.0.0"][0].tag == "model#prod#5"
    assert stages.held_now([history], retired={"v1.0.0"}) == {}, "GTO hides a deregistered version's stages"
    assert stages.timeline("prod", tagged, retired={"v1.0.0"}).now is None


def _history(text: str) -> History:
    """A history in which every text from outside is `text`."""
    release = Release(
        tag="model@v1.1.0",
        version="v1.1.0",
        date="2026-01-02T00:00:00+00:00",
        commit="a" * 40,
        bump=None,
        reasons=[Reason.DATA],
        rows=10,
        data_hash=text,
        environment=text,
        params_changed=[ParamChange(text, text, text)],
        note=text,
        run_url=text,
        pull_requests=[PullRequest(7, text)],
        metrics={text: 0.5, "accuracy": 0.9},
        stages=[StageHeld(text, "2026-01-03T00:00:00+00:00", text)],
        deregistered=True,
    )
    event = StageEvent(text, StageAction.PROMOTE, "v1.1.0", "2026-01-03T00:00:00+00:00", text, text, text, text, text)
    return History(
        artifact=text,
        gate=Gate(text, "higher", "absolute", 0.05),
        releases=[release],
        trends=[Trend(text, True, [Point("v1.1.0", 0.9, 0.85)]), Trend("accuracy", False, [Point(text, 0.5)])],
        stages=[StageHistory(text, "v1.1.0", [Serving("v1.1.0", event.at, None)], [event])],
        deregistrations=[],
        gated=GatedRuns([GatedRun("b" * 40, 0.7, text)], text),
        unknown=[text],
    )


class _Shape(HTMLParser):
    """The page's elements and attribute names in order, and its text (character references resolved)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shape: list[tuple[str, tuple[str, ...]]] = []
        self.text: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.shape.append((tag, tuple(name for name, _ in attrs)))
        self.attributes += [value or "" for _, value in attrs]

    def handle_endtag(self, tag: str) -> None:
        self.shape.append((f"/{tag}", ()))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Shape:
    parser = _Shape()
    parser.feed(page)
    parser.close()
    return parser


hostile = st.text(min_size=1).filter(lambda text: text.strip() and "\r" not in text and "\x00" not in text)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile)
@example(text="<script>alert(1)</script>")
@example(text='"><img src=http://evil.example/x onerror=alert(1)>')
@example(text="</title></style></svg><a href='https://evil.example'>x</a>")
@example(text="<!-- --> <![CDATA[ ]]> &amp; &lt;")
def test_text_from_outside_never_becomes_markup_in_the_page(text: str) -> None:
    """Notes, metric and stage names, pull request titles, taggers: whatever they say, the page has exactly the
    elements and attributes it has for a plain word, and the text reads back as written."""
    plain, page = _parse(render(_history("word"))), _parse(render(_history(text)))
    assert page.shape == plain.shape
    assert any(text in chunk for chunk in page.text + page.attributes)


def test_the_page_fetches_nothing_and_links_nowhere() -> None:
    page = render(_history("https://evil.example/x.png"))
    assert "default-src 'none'" in page
    shape = _parse(page)
    assert not [tag for tag, names in shape.shape if {"src", "href"} & set(names)], "no src or href at all"
    assert not [tag for tag, _ in shape.shape if tag in ("script", "link", "img", "iframe", "object", "a")]


def test_the_json_is_the_same_tree_the_page_draws() -> None:
    import json

    loaded = json.loads(to_json(_history("word")))
    assert loaded["releases"][0]["reasons"] == ["data"] and loaded["stages"][0]["events"][0]["action"] == "promote"
    assert loaded["trends"][0]["points"][0] == {"version": "v1.1.0", "value": 0.9, "limit": 0.85}


_STARTED: list[list[str]] | None = None  # the processes started while counting (an audit hook cannot be removed)


def _record(event: str, args: tuple) -> None:  # type: ignore[type-arg]
    if _STARTED is not None and event == "subprocess.Popen":
        _STARTED.append([str(part) for part in args[1]])


sys.addaudithook(_record)


def _processes(root: Path) -> int:
    """Every process `collect` starts, counted at the source (subprocess.Popen's audit event: GitPython's too)."""
    global _STARTED
    object_reader.cache_clear()  # GitPython's persistent cat-file is started afresh for this repository
    _STARTED = []
    try:
        collect(root)
        return len(_STARTED)
    finally:
        _STARTED = None


def test_the_history_costs_the_same_processes_at_3_and_60_releases(tmp_path: Path) -> None:
    """The cost rule: tags and messages in one git call, every release's files in one, the merges in one."""
    small = synthetic_history(tmp_path / "small", 3)
    large = synthetic_history(tmp_path / "large", 60)
    collect(small)  # once before counting: GitPython asks `git version` when first imported, once per process
    assert _processes(small) == _processes(large) == 3
    history = collect(large)
    assert [release.version for release in history.releases[:2]] == ["v1.59.0", "v1.58.0"]
    assert history.releases[0].metrics["accuracy"] == accuracy(59) and history.releases[0].rows == 1797 + 300 * 59
    assert history.releases[0].pull_requests == [PullRequest(60, "Add batch 59")]
    assert history.releases[1].params_changed == [] and history.releases[2].params_changed == [
        ParamChange("train.C", "2.8", "2.9")
    ]
    assert history.stages[0].now == "v1.58.0" and [span.version for span in history.stages[0].spans] == [
        "v1.58.0",
        "v1.59.0",
        "v1.58.0",
    ]
