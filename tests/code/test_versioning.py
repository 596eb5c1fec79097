"""Versions, the gate and the tag message: pure logic."""

from __future__ import annotations

from retrain.versioning import Lineage, Version, changed_params, latest, next_version, parse_tag, tag_message


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
        assert latest(tags, "model") == ("model@v1.10.0", Version(1, 10, 0))
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
