"""A delivery's key is data, never a path: the refusal rule, the names the engine uses instead, and the paths a
folder landing and the scratch folder build from any key at all (hypothesis), which never leave their folder."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from retrain.errors import RetrainError
from retrain.ingest import keys, plan
from retrain.ingest.keys import KeyFault
from retrain.ingest.landing import REASON_SUFFIX, FolderLanding, S3Landing, reason_document, within
from retrain.ingest.plan import Delivery

WHEN = datetime(2025, 3, 1, 12, 30, 5, tzinfo=UTC)
# Keys biased towards what a path makes of them, plus anything at all.
PATHISH = st.text(alphabet=st.sampled_from(list("/.\\a-_ \n\x00\x7f\u2028\u2029\u202e\ud800é")), max_size=30)
ANY_KEY = st.one_of(PATHISH, st.text(max_size=80))


@pytest.mark.parametrize(
    ("key", "fault"),
    [
        ("../../../src/pipeline/validate.py", KeyFault.DOT_SEGMENT),
        ("/tmp/x.csv", KeyFault.LEADING_SLASH),
        ("a//b.csv", KeyFault.EMPTY_SEGMENT),
        ("a/./b.csv", KeyFault.DOT_SEGMENT),
        ("a/..", KeyFault.DOT_SEGMENT),
        ("a\\..\\b.csv", KeyFault.BACKSLASH),
        ("a\nb.csv", KeyFault.HIDDEN_CHARACTER),
        ("a\x00.csv", KeyFault.HIDDEN_CHARACTER),
        ("a\x7f.csv", KeyFault.HIDDEN_CHARACTER),
        ("a\u2028.csv", KeyFault.HIDDEN_CHARACTER),
        ("a\u2029.csv", KeyFault.HIDDEN_CHARACTER),
        ("\ud800.csv", KeyFault.HIDDEN_CHARACTER),  # a file name that is not UTF-8
        ("", KeyFault.EMPTY),
        ("é" * 513, KeyFault.TOO_LONG),  # 1026 UTF-8 bytes
        ("2025/03/01.csv", None),
        ("..a/b..c/.hidden-is-a-name.csv", None),
        ("@octocat [skip ci] **x** <img> `t`.csv", None),  # markup is data: shown escaped, never refused for it
    ],
)
def test_a_key_that_is_a_path_or_holds_hidden_characters_is_refused(key: str, fault: KeyFault | None) -> None:
    assert keys.fault(key) is fault


def test_the_length_counts_the_whole_key_with_its_prefix() -> None:
    assert keys.fault("a.csv", "landing/" + "x" * 1020) is KeyFault.TOO_LONG
    assert keys.fault("a.csv", "landing/" + "x" * 1011) is None


def test_the_refusal_names_the_key_says_why_and_what_to_do() -> None:
    message = keys.refusal("s3://b/landing/../x.py", KeyFault.DOT_SEGMENT)
    assert message.startswith("s3://b/landing/../x.py: unsafe key: it has a `.` or `..` segment")
    assert "Deliver the file again under a plain name" in message and "\n" not in message


@given(ANY_KEY)
@example("../../../src/pipeline/validate.py")
@example("/tmp/x.csv")
def test_a_key_the_rule_accepts_stays_under_any_folder_it_is_joined_to(key: str) -> None:
    if keys.fault(key) is None:
        assert os.path.normpath(f"/folder/{key}").startswith("/folder/")
        assert Path("/folder", key).parts[:2] == ("/", "folder") and ".." not in Path(key).parts


@given(ANY_KEY)
def test_engine_names_are_plain_file_names_whatever_the_key(key: str) -> None:
    assert keys.is_plain_file_name(keys.scratch_name(key))
    unsafe, digest = keys.unsafe_name(key).split("/")
    assert unsafe == keys.UNSAFE and len(digest) == 64 and int(digest, 16) >= 0
    name = plan.batch_name(7, WHEN, plan.source_label("bucket", key), key)
    assert keys.is_plain_file_name(name) and name.startswith("batch-0007-") and name.endswith(".csv")


def test_the_scratch_file_keeps_a_plain_suffix_only() -> None:
    assert keys.scratch_name("landing/2025-03-01.csv").endswith(".csv")
    assert keys.scratch_name("landing/notes.txt").endswith(".txt")
    assert "." not in keys.scratch_name("landing/x.c/sv") and "." not in keys.scratch_name("landing/.csv")
    assert keys.scratch_name("a.csv") != keys.scratch_name("b.csv")


@pytest.fixture(scope="module")
def landing_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("keys")
    (root / "landing").mkdir()
    (root / "scratch").mkdir()
    (root / "delivery.csv").write_text("pixel_0,label\n")
    return root


@given(ANY_KEY)
@example("../../../src/pipeline/validate.py")
@example("/tmp/x.csv")
def test_a_folder_landing_quarantines_any_key_under_rejected_and_nowhere_else(landing_root: Path, key: str) -> None:
    landing = FolderLanding(str(landing_root / "landing"))
    rejected = landing.rejected.resolve()
    for path in (landing.rejected_path(key), landing.rejected_path(key, REASON_SUFFIX)):
        assert path.resolve().is_relative_to(rejected)
    if landing.fault(key):
        assert landing.rejected_path(key) == landing.rejected / keys.unsafe_name(key)
    assert within(landing_root / "scratch", keys.scratch_name(key)).parent == landing_root / "scratch"
    delivery = Delivery(key, "1-2", 14, WHEN)
    try:
        landing.quarantine(delivery, landing_root / "delivery.csv", reason_document(landing.url, delivery, "r", "t"))
    except RetrainError as error:  # a name the file system refuses (too long): one line, nothing written elsewhere
        assert "\n" not in str(error) and str(error).startswith(f"cannot write to {landing.rejected_url}")
    else:
        assert landing.rejection(key) is not None and landing.has_copy(key)
    outside = {p.relative_to(landing_root).as_posix() for p in landing_root.rglob("*") if p.is_file()}
    assert {name for name in outside if not name.startswith("rejected/")} == {"delivery.csv"}


@given(ANY_KEY)
def test_an_s3_landing_quarantines_any_key_under_its_rejected_prefix(key: str) -> None:
    landing = S3Landing.__new__(S3Landing)  # the naming rules only: no client, no network
    landing.prefix, landing.rejected_prefix, landing.url = "landing/", "rejected/", "s3://b/landing/"
    target = landing.rejected_key("landing/" + key)
    assert target.startswith("rejected/")
    assert keys.fault(target.removeprefix("rejected/"), target) in (None, KeyFault.TOO_LONG)
    assert "\n" not in landing.shown("landing/" + key)


def test_within_refuses_a_symlink_out_of_the_folder(tmp_path: Path) -> None:
    (tmp_path / "rejected").mkdir()
    (tmp_path / "rejected" / "unsafe").symlink_to(tmp_path)
    with pytest.raises(RetrainError, match="resolves outside"):
        within(tmp_path / "rejected", "unsafe/x")
