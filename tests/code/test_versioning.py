"""Versions, the gate and the tag message: pure logic."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from retrain.versioning import (
    Assignment,
    AssignmentAction,
    Lineage,
    TaggedVersion,
    Version,
    assignment_message,
    changed_params,
    latest,
    made_by_registry,
    next_free_version,
    next_version,
    parse_tag,
    tag_message,
)


class TestVersions:
    def test_first_release_is_1_0_0(self) -> None:
        assert next_version(None, data_changed=True, major=False) == Version(1, 0, 0)

    def test_data_change_bumps_minor_params_patch_flag_major(self) -> None:
        base = Version(1, 2, 3)
        assert next_version(base, data_changed=True, major=False) == Version(1, 3, 0)
        assert next_version(base, data_changed=False, major=False) == Version(1, 2, 4)
        assert next_version(base, data_changed=True, major=True) == Version(2, 0, 0)

    def test_latest_compares_numerically_and_ignores_other_tags(self) -> None:
        tags = ["model@v1.9.0", "model@v1.10.0", "other@v9.0.0", "v3.0.0", "model@v1.10.0-rc"]
        assert latest(tags, "model") == TaggedVersion("model@v1.10.0", Version(1, 10, 0))
        assert parse_tag("model@v1.2", "model") is None


def test_tag_message_records_lineage_verbatim() -> None:
    note = "weird $(rm -rf /) `x` ; | note"
    message = tag_message(
        "model@v1.0.0",
        Lineage("abc123", "d41d.dir", 1797, 1, {"train.C": 1.0}, {"accuracy": 0.95, "per_class_f1": {}}, note, "url"),
    )
    assert message.startswith("Release model@v1.0.0\n")
    assert "code commit: abc123" in message and "1797 rows in 1 batches" in message
    assert note in message and "ci run: url" in message and "per_class_f1" not in message


def test_tag_message_without_data_statistics_names_the_hash_alone() -> None:
    """A project that keeps no data statistics (no release.data_stats): the data line is the hash, nothing made up."""
    message = tag_message("m@v1.0.0", Lineage("abc", "0123abcd", None, None, {}, {"rmse": 50.0}, None, None))
    assert "data: 0123abcd\n" in message and "rows" not in message and "rmse: 50.0" in message


def test_changed_params_flattens_sections() -> None:
    old = {"train": {"C": 1.0, "seed": 1}}
    new = {"train": {"C": 0.5, "seed": 1}}
    assert changed_params(old, new) == {"train.C": (1.0, 0.5)}


def test_next_free_version_skips_numbers_a_tag_anywhere_holds() -> None:
    base = Version(1, 0, 0)
    assert next_free_version(base, True, False, [Version(9, 0, 0)]) == Version(1, 1, 0)
    assert next_free_version(base, True, False, [Version(1, 1, 0), Version(1, 2, 0)]) == Version(1, 3, 0)
    assert next_free_version(base, False, False, [Version(1, 0, 1)]) == Version(1, 0, 2)
    assert next_free_version(None, True, False, [Version(1, 0, 0)]) == Version(2, 0, 0)


versions = st.builds(Version, st.integers(0, 3), st.integers(0, 3), st.integers(0, 3))


@given(base=st.none() | versions, data=st.booleans(), major=st.booleans(), taken=st.sets(versions, max_size=20))
def test_next_free_version_is_never_taken_and_always_after_the_base(base, data, major, taken) -> None:
    version = next_free_version(base, data, major, taken)
    assert version not in taken
    assert base is None or version > base


def _assignment(action: AssignmentAction, release: str, previous: str | None, note: str | None) -> Assignment:
    return Assignment(action, "prod", release, previous, "Ada", note, None)


def test_made_by_registry_accepts_what_promote_and_rollback_write_and_nothing_else() -> None:
    promote = assignment_message(
        _assignment(AssignmentAction.PROMOTE, "model@v1.1.0", "model@v1.0.0", "action: rollback")
    )
    rollback = assignment_message(_assignment(AssignmentAction.ROLLBACK, "model@v1.0.0", "model@v1.1.0", None))
    assert made_by_registry(promote, "prod", "model@v1.1.0")
    assert made_by_registry(rollback, "prod", "model@v1.0.0")
    assert not made_by_registry(promote, "prod", "model@v1.0.0")  # another release than the subject names
    assert not made_by_registry(promote, "staging", "model@v1.1.0")
    assert not made_by_registry("ship it\n", "prod", "model@v1.1.0")
    assert not made_by_registry("Promote model@v1.1.0 to prod\n", "prod", "model@v1.1.0")  # no action, no by
    assert not made_by_registry("", "prod", "model@v1.1.0")


@given(st.text())
def test_made_by_registry_never_raises_on_any_message(message: str) -> None:
    assert made_by_registry(message, "prod", "model@v1.1.0") in (True, False)


def test_a_note_is_kept_verbatim_in_the_tag_even_its_hash_lines(tmp_path) -> None:
    """git's default cleanup would drop `# ...` lines and collapse blank ones from an annotated tag's message."""
    import subprocess

    from retrain import gitops

    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "commit", "--quiet", "--allow-empty", "-m", "c"], check=True)
    message = "model@v1.0.0\n\nnote:\n# not a comment\n\n\n  indented  \n"
    gitops.create_tag(tmp_path, "model@v1.0.0", message)
    shown = subprocess.run(
        ["git", "-C", str(tmp_path), "cat-file", "tag", "model@v1.0.0"], capture_output=True, text=True, check=True
    ).stdout
    assert shown.split("\n\n", 1)[1] == message
