"""Ingest's pure decisions: what is new, the listing marker, names, exit codes and lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from retrain.ingest import plan
from retrain.ingest.plan import Delivery, Outcome, Record, Status

SOURCE = "s3://bucket/landing/"
WHEN = datetime(2025, 3, 1, 12, 30, 5, tzinfo=UTC)


def delivery(key: str, etag: str = "e1", size: int = 10) -> Delivery:
    return Delivery(key, etag, size, WHEN)


def recorded(key: str, etag: str = "e1", batch: str = "data/raw/batch-0001-x.csv", **extra) -> Record:
    return Record(batch=batch, md5="0" * 32, source=extra.pop("source", SOURCE), key=key, etag=etag, **extra)


class TestMarker:
    def test_the_greatest_key_listed_through_for_this_source(self) -> None:
        records = [
            recorded("landing/a.csv", listed_through="landing/c.csv"),
            recorded("landing/b.csv"),
            recorded("landing/z.csv", source="s3://other/landing/"),
        ]
        assert plan.marker(records, SOURCE) == "landing/c.csv"
        assert plan.marker([], SOURCE) is None

    def test_listing_starts_just_before_the_marker_so_the_last_key_is_listed_again(self) -> None:
        start = plan.listing_start("landing/2025-03-01.csv")
        assert start is not None
        assert start < "landing/2025-03-01.csv" and start < "landing/2025-03-02.csv"
        assert start >= "landing/2025-02-28.csv"
        assert plan.listing_start(None) is None


class TestTriage:
    def test_sorts_listed_deliveries_by_what_the_record_and_the_reason_files_say(self) -> None:
        listed = [
            delivery("landing/new.csv", "e9"),
            delivery("landing/old.csv", "e1"),
            delivery("landing/changed.csv", "e2"),
            delivery("landing/bad.csv", "e3"),
            delivery("landing/copy.csv", "a" * 32),
        ]
        records = [
            recorded("landing/old.csv", "e1", "data/raw/batch-0001-old.csv"),
            recorded("landing/changed.csv", "e1", "data/raw/batch-0002-changed.csv"),
        ]
        outcomes = plan.triage(listed, records, {"landing/bad.csv": ("e3", "bad label")}, {"a" * 32: "data/raw/b.csv"})
        found = {outcome.delivery.key: outcome for outcome in outcomes}
        assert [o.delivery.key for o in outcomes] == sorted(found)
        assert found["landing/new.csv"].status is None and found["landing/new.csv"].replaces is None
        assert found["landing/old.csv"].status is Status.ALREADY_INGESTED
        assert found["landing/old.csv"].batch == "data/raw/batch-0001-old.csv"
        assert found["landing/changed.csv"].status is None, "a new delivery under a recorded key"
        assert found["landing/changed.csv"].replaces == "data/raw/batch-0002-changed.csv"
        assert found["landing/bad.csv"].status is Status.ALREADY_REJECTED
        assert found["landing/bad.csv"].reason == "bad label"
        assert found["landing/copy.csv"].status is Status.DUPLICATE

    def test_only_deliveries_git_does_not_record_are_looked_up_in_rejected(self) -> None:
        listed = [delivery("landing/a.csv", "e1"), delivery("landing/a2.csv", "e1"), delivery("landing/b.csv", "e2")]
        records = [recorded("landing/a.csv", "e1"), recorded("landing/b.csv", "e1")]
        assert [d.key for d in plan.unrecorded(listed, records)] == ["landing/a2.csv", "landing/b.csv"]

    def test_a_rejected_key_that_changed_is_new_again(self) -> None:
        outcomes = plan.triage([delivery("landing/bad.csv", "e4")], [], {"landing/bad.csv": ("e3", "x")}, {})
        assert outcomes[0].status is None

    def test_an_etag_that_is_no_md5_never_counts_as_a_duplicate(self) -> None:
        multipart = "b" * 32 + "-3"
        outcomes = plan.triage([delivery("landing/x.csv", multipart)], [], {}, {multipart: "data/raw/b.csv"})
        assert outcomes[0].status is None


class TestNames:
    def test_batch_name_says_when_and_from_where_and_sorts_after_existing_batches(self) -> None:
        number = plan.next_number(["data/raw/batch-0000-digits.csv", "batch-0007-x.csv", "other.csv"])
        assert number == 8
        name = plan.batch_name(number, WHEN, "bucket-landing", "daily/sales 2025.csv")
        assert name == "batch-0008-20250301T123005Z-bucket-landing-daily_sales-2025.csv"

    def test_long_or_odd_delivery_names_are_cut_and_made_safe(self) -> None:
        name = plan.batch_name(1, WHEN, "x", "../" + "é" * 10 + "a" * 200 + ".CSV")
        assert name.startswith("batch-0001-20250301T123005Z-x-") and name.endswith(".csv")
        assert "/" not in name and ".." not in name and len(name) < 120

    def test_next_number_with_no_batch(self) -> None:
        assert plan.next_number([]) == 0

    @pytest.mark.parametrize(
        ("bucket", "prefix", "label"),
        [
            ("bucket", "landing/", "bucket-landing"),
            ("bucket", "team/data/landing/", "bucket-data-landing"),
            (None, "/srv/drops/landing", "landing"),
        ],
    )
    def test_source_label(self, bucket, prefix, label) -> None:
        assert plan.source_label(bucket, prefix) == label
        assert plan.branch_name(label) == f"ingest/{label}"


class TestOutcomes:
    def outcomes(self, *statuses: Status | None) -> list[Outcome]:
        return [Outcome(delivery(f"landing/{i}.csv"), status) for i, status in enumerate(statuses)]

    def test_exit_2_only_when_every_new_delivery_was_refused(self) -> None:
        assert plan.exit_code(self.outcomes(Status.REJECTED, Status.REJECTED, Status.ALREADY_INGESTED)) == 2
        assert plan.exit_code(self.outcomes(Status.REJECTED, Status.INGESTED)) == 0
        assert plan.exit_code(self.outcomes(Status.ALREADY_REJECTED, Status.DUPLICATE)) == 0, "nothing new"
        assert plan.exit_code([]) == 0

    def test_summary(self) -> None:
        assert plan.summary(self.outcomes(Status.INGESTED, Status.INGESTED, Status.REJECTED)) == (
            "ingest: 2 ingested, 1 rejected"
        )
        assert plan.summary(self.outcomes(Status.ALREADY_INGESTED)) == "ingest: nothing new, 1 already ingested"
        assert plan.summary([]) == "ingest: nothing new"

    def test_lines_name_the_delivery_once_and_say_what_became_of_it(self) -> None:
        key = "s3://bucket/landing/x.csv"
        rejected = Outcome(delivery("landing/x.csv"), Status.REJECTED, reason=f"{key}: column 'label': unknown label")
        assert plan.line(rejected, key) == f"{key}: rejected: column 'label': unknown label"
        changed = Outcome(
            delivery("landing/x.csv"), Status.INGESTED, batch="data/raw/b2.csv", replaces="data/raw/b1.csv"
        )
        assert plan.line(changed, key) == (
            f"{key}: ingested as data/raw/b2.csv (changed under the same key: a new delivery after data/raw/b1.csv)"
        )
        assert plan.line(Outcome(delivery("k"), Status.ALREADY_INGESTED, batch="b"), key) == (
            f"{key}: already ingested as b"
        )


class TestExpired:
    """Which originals the retention option lets a run delete: old, recorded on the release branch, unchanged."""

    NOW = WHEN + timedelta(days=100)

    def expired(self, listed, released=(), rejected=None, days=30) -> list[str]:
        return [item.key for item in plan.expired(listed, list(released), rejected or {}, self.NOW, days)]

    def test_an_unchanged_delivery_ingested_long_enough_ago(self) -> None:
        old, recent = self.NOW - timedelta(days=30), self.NOW - timedelta(days=29, hours=23)
        released = [recorded("landing/old.csv", "e1", ingested=old), recorded("landing/new.csv", "e1", ingested=recent)]
        listed = [delivery("landing/old.csv"), delivery("landing/new.csv")]
        assert self.expired(listed, released) == ["landing/old.csv"]
        [item] = plan.expired(listed, released, {}, self.NOW, 30)
        assert (item.batch, item.since, item.etag, item.md5) == ("data/raw/batch-0001-x.csv", old, "e1", "0" * 32)

    def test_a_changed_object_under_a_recorded_key_is_kept(self) -> None:
        released = [recorded("landing/a.csv", "e1", ingested=WHEN)]
        assert self.expired([delivery("landing/a.csv", "e2")], released) == []

    def test_a_record_without_a_readable_time_or_not_released_is_kept(self) -> None:
        assert self.expired([delivery("landing/a.csv")], [recorded("landing/a.csv", ingested=None)]) == []
        assert self.expired([delivery("landing/a.csv")], []) == []

    def test_a_refused_delivery_once_its_refusal_is_old_enough_and_names_this_version(self) -> None:
        rejected = {
            "landing/bad.csv": ("e1", "bad label", WHEN),
            "landing/redelivered.csv": ("e1", "bad label", WHEN),
            "landing/recent.csv": ("e1", "bad label", self.NOW - timedelta(days=1)),
            "landing/unknown-time.csv": ("e1", "bad label", None),
        }
        listed = [delivery(key, "e2" if "redelivered" in key else "e1") for key in rejected]
        assert self.expired(listed, [], rejected) == ["landing/bad.csv"]
        assert plan.expired(listed, [], rejected, self.NOW, 30)[0].reason == "bad label"

    def test_the_line_says_why(self) -> None:
        item = plan.Expired("landing/a.csv", "e1", WHEN, "data/raw/batch-0001-x.csv", "0" * 32)
        assert plan.expired_line(item, "s3://bucket/landing/a.csv", 30) == (
            "s3://bucket/landing/a.csv: deleted from the landing (ingested as data/raw/batch-0001-x.csv on "
            "2025-03-01T12:30:05Z, retention 30 days)"
        )

    def test_recorded_times_are_read_as_written_or_as_yaml_made_them(self) -> None:
        assert plan.parse_time("2025-03-01T12:30:05Z") == WHEN
        assert plan.parse_time(WHEN.replace(tzinfo=None)) == WHEN
        assert plan.parse_time("yesterday") is None and plan.parse_time(None) is None
