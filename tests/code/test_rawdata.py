"""Raw data at a revision, read from git the way a release reads it (real git, a scratch repository)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from retrain.rawdata import Raw


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def _dvc_file(name: str, md5: str) -> str:
    return f"outs:\n- md5: {md5}\n  size: 1\n  hash: md5\n  path: {name}\n"


def test_batches_at_a_revision_match_the_work_tree_and_ignore_what_is_not_a_dvc_file(tmp_path: Path) -> None:
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    _git(tmp_path, "init", "--quiet")
    wanted = {
        f"data/raw/batch-{n:04d}.csv": hashlib.md5(bytes([n]), usedforsecurity=False).hexdigest() for n in range(5)
    }
    for path, md5 in wanted.items():
        name = Path(path).name
        (raw / f"{name}.dvc").write_text(_dvc_file(name, md5))
    (raw / ".gitignore").write_text("/*.csv\n")
    (raw / "sub").mkdir()
    (raw / "sub" / "nested.csv.dvc").write_text(_dvc_file("nested.csv", "f" * 32))  # not a batch of the folder
    _git(tmp_path, "add", "--all")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "--quiet", "-m", "batches")
    (raw / "batch-0000.csv.dvc").unlink()  # the work tree moves on; the revision does not

    assert Raw("data/raw").at(tmp_path, "HEAD") == wanted
    assert Raw("data/raw").in_tree(tmp_path) == {k: v for k, v in wanted.items() if not k.endswith("0000.csv")}
    assert Raw("data/raw").at(tmp_path, "HEAD~0") == wanted


def test_a_partition_lists_its_batches_under_their_own_names_with_their_ingest_records(tmp_path: Path) -> None:
    """Compaction moves batches, not names: a partition's members read as `<folder>/<file>`, like single batches,
    so the append-only check and the version bump compare the same names before and after."""
    from retrain import dvcfiles

    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    md5s = {f"batch-{n}.csv": hashlib.md5(bytes([n]), usedforsecurity=False).hexdigest() for n in range(3)}
    record = {"source": "s3://landing", "key": "in/b1.csv", "etag": "e1", "ingested": "2026-12-01T00:00:00Z"}
    added = _dvc_file("2026-11", "0" * 32 + ".dir")
    members = {"batch-0.csv": (md5s["batch-0.csv"], None), "batch-1.csv": (md5s["batch-1.csv"], record)}
    (raw / "2026-11.dvc").write_text(dvcfiles.with_partition_meta(added, members))
    (raw / "batch-2.csv.dvc").write_text(_dvc_file("batch-2.csv", md5s["batch-2.csv"]))

    files = {found.name: found for found in Raw("data/raw").files(tmp_path)}

    assert {name: found.md5 for name, found in files.items()} == {f"data/raw/{name}": md5 for name, md5 in md5s.items()}
    assert files["data/raw/batch-1.csv"].path == "data/raw/2026-11/batch-1.csv"
    assert files["data/raw/batch-1.csv"].dvc_file == "data/raw/2026-11.dvc"
    assert files["data/raw/batch-1.csv"].ingest == record
    assert files["data/raw/batch-2.csv"].path == "data/raw/batch-2.csv"
    assert Raw("data/raw").in_tree(tmp_path) == {f"data/raw/{name}": md5 for name, md5 in md5s.items()}


def test_a_folder_named_like_a_month_but_tracked_elsewhere_is_no_partition() -> None:
    from retrain.rawdata import partition_of

    assert partition_of("data/raw", "data/raw/2026-12.dvc") == "2026-12"
    assert partition_of("data/raw", "data/raw/2026-13.dvc") is None
    assert partition_of("data/raw", "data/raw/2026-12.csv.dvc") is None
    assert partition_of("data/raw", "data/other/2026-12.dvc") is None


def test_a_folder_or_file_in_the_batch_folder_that_no_dvc_file_tracks_is_untracked(tmp_path: Path) -> None:
    """The stages read month folders too: a folder there without its .dvc file, or a file a partition does not
    list, would be trained on but never stored."""
    from retrain import dvcfiles

    _git(tmp_path, "init", "--quiet")
    raw = tmp_path / "data" / "raw"
    (raw / "2026-11").mkdir(parents=True)
    (raw / "extra").mkdir()
    (raw / "extra" / "batch-9.csv").write_text("x")
    (raw / "2026-11" / "batch-0.csv").write_text("a")
    (raw / "2026-11" / "batch-1.csv").write_text("b")
    md5 = hashlib.md5(b"a", usedforsecurity=False).hexdigest()
    listing = dvcfiles.with_partition_meta(_dvc_file("2026-11", "0" * 32 + ".dir"), {"batch-0.csv": (md5, None)})
    (raw / "2026-11.dvc").write_text(listing)
    _git(tmp_path, "add", "data/raw/2026-11.dvc")

    assert Raw("data/raw").untracked(tmp_path) == ["data/raw/2026-11/batch-1.csv", "data/raw/extra"]


_YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=20), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(listing=st.dictionaries(st.text(max_size=30), _YAML_VALUES | st.fixed_dictionaries({"md5": st.text()})))
def test_a_partitions_listing_yields_only_plain_names_in_its_folder(listing: dict) -> None:
    """Whatever a partition's .dvc file lists, reading it never fails and never names a path outside its folder."""
    from retrain import dvcfiles
    from retrain.rawdata import batch_files

    text = yaml.safe_dump({"outs": [{"md5": "0" * 32 + ".dir", "path": "2026-11"}], "meta": {"partition": listing}})
    for found in batch_files("data/raw", {"data/raw/2026-11.dvc": text}):
        name = found.path.removeprefix("data/raw/2026-11/")
        assert "/" not in name and name not in ("", ".", ".."), found
        assert found.name == f"data/raw/{name}"
    assert set(dvcfiles.partition_members(text)) <= {name for name in listing if isinstance(name, str)}


_INGEST = st.dictionaries(
    st.text(max_size=10), st.none() | st.booleans() | st.integers() | st.text(max_size=20), max_size=4
)


@settings(max_examples=200, deadline=None)
@given(
    members=st.dictionaries(
        st.text(min_size=1, max_size=30).filter(lambda n: n not in (".", "..") and not set(n) & set("/\\\0\n\r")),
        st.tuples(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32), st.none() | _INGEST),
        max_size=8,
    )
)
def test_a_partitions_listing_reads_back_what_was_written(members: dict) -> None:
    """Whatever names and ingest records a compaction writes (landing keys are anyone's), the listing is one block
    of text that DVC's YAML parser reads as one scalar, and it reads back exactly (an empty record as none)."""
    from dvc.utils.serialize import parse_yaml

    from retrain import dvcfiles

    text = dvcfiles.with_partition_meta(_dvc_file("2026-11", "0" * 32 + ".dir"), members)
    assert isinstance(parse_yaml(text, "2026-11.dvc")["meta"]["partition"], str)
    expected = {name: (md5, ingest or None) for name, (md5, ingest) in members.items()}
    assert dvcfiles.partition_members(text) == expected


@settings(max_examples=200, deadline=None)
@given(listing=st.text(max_size=300))
def test_a_partitions_block_listing_of_any_text_yields_only_plain_names(listing: str) -> None:
    """A hand-edited or hostile block listing: reading it never fails and never names a path."""
    from retrain import dvcfiles

    text = yaml.safe_dump({"outs": [{"md5": "0" * 32 + ".dir", "path": "2026-11"}], "meta": {"partition": listing}})
    for name in dvcfiles.partition_members(text):
        assert "/" not in name and name not in ("", ".", "..")
