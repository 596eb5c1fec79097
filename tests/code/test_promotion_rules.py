"""Promotion and rollback decisions, without git, GTO or DVC: the serving stack a rollback walks, which version it
lands on, how new stage tags are dated, what a version argument means, and the stage tags' messages."""

from __future__ import annotations

from retrain import decisions
from retrain.decisions import Assigned
from retrain.registry import EventKind
from retrain.versioning import Assignment, AssignmentAction, assignment_message, is_rollback, unassignment_message


def promoted(*versions: str) -> list[Assigned]:
    return [Assigned(version, rollback=False) for version in versions]


class TestServingStack:
    def test_promotions_pile_up_in_order(self) -> None:
        assert decisions.serving_stack(promoted("v1", "v2", "v3")) == ["v1", "v2", "v3"]

    def test_a_rollback_takes_the_version_rolled_back_from_off(self) -> None:
        events = [*promoted("v1", "v2", "v3"), Assigned("v2", rollback=True)]
        assert decisions.serving_stack(events) == ["v1", "v2"]

    def test_promoting_again_moves_a_version_to_the_top_once(self) -> None:
        assert decisions.serving_stack(promoted("v1", "v2", "v1")) == ["v2", "v1"]


class TestRollbackTarget:
    def test_rollback_twice_walks_back_through_what_served(self) -> None:
        events = promoted("v1", "v2", "v3")
        assert decisions.rollback_target(decisions.serving_stack(events), "v3", set()) == "v2"
        events.append(Assigned("v2", rollback=True))
        assert decisions.rollback_target(decisions.serving_stack(events), "v2", set()) == "v1"
        events.append(Assigned("v1", rollback=True))
        assert decisions.rollback_target(decisions.serving_stack(events), "v1", set()) is None

    def test_deregistered_versions_are_skipped(self) -> None:
        stack = decisions.serving_stack(promoted("v1", "v2", "v3"))
        assert decisions.rollback_target(stack, "v3", {"v2"}) == "v1"
        assert decisions.rollback_target(stack, "v3", {"v1", "v2"}) is None

    def test_a_current_version_assigned_by_another_tool_rolls_back_to_the_top_of_the_stack(self) -> None:
        assert decisions.rollback_target(["v1", "v2"], "v9", set()) == "v2"

    def test_retired_versions_are_those_whose_latest_registration_event_is_a_deregistration(self) -> None:
        registration, deregistration = EventKind.REGISTRATION, EventKind.DEREGISTRATION
        events = [(registration, "v1"), (registration, "v2"), (deregistration, "v2"), (EventKind.ASSIGNMENT, "v1")]
        assert decisions.retired_versions(events) == {"v2"}
        assert decisions.retired_versions([*events, (registration, "v2")]) == set()


def test_a_new_stage_tag_is_dated_after_every_tag_even_within_one_second_or_behind_the_clock() -> None:
    assert decisions.stage_tag_time(now=100, latest=None) == 100
    assert decisions.stage_tag_time(now=100, latest=50) == 100
    assert decisions.stage_tag_time(now=100, latest=100) == 101
    assert decisions.stage_tag_time(now=100, latest=130) == 131


def test_a_version_argument_names_a_known_release_in_any_usual_spelling() -> None:
    known = {"model@v1.2.0", "model@v1.10.0"}
    for spelling in ("v1.2.0", "1.2.0", "model@v1.2.0", " v1.2.0 "):
        assert decisions.release_tag_of(spelling, "model", known) == "model@v1.2.0"
    for unknown in ("v1.3.0", "other@v1.2.0", "model#prod#1", "latest"):
        assert decisions.release_tag_of(unknown, "model", known) is None


def test_a_serving_pointer_is_flipped_only_by_the_newer_assignment() -> None:
    assert not decisions.pointer_is_newer(None, "2026-01-01T10:00:00+00:00")
    assert not decisions.pointer_is_newer("2026-01-01T09:59:59+00:00", "2026-01-01T10:00:00+00:00")
    assert not decisions.pointer_is_newer("2026-01-01T10:00:00+00:00", "2026-01-01T10:00:00+00:00")
    assert decisions.pointer_is_newer("2026-01-01T10:00:01+00:00", "2026-01-01T10:00:00+00:00")


class TestStageTagMessages:
    def test_a_promotion_says_who_why_and_what_it_replaced(self) -> None:
        made = Assignment(
            AssignmentAction.PROMOTE, "prod", "model@v1.2.0", "model@v1.1.0", "dee", "better on new scans", None
        )
        message = assignment_message(made)
        assert message.splitlines()[0] == "Promote model@v1.2.0 to prod"
        assert "previous: model@v1.1.0" in message and "by: dee" in message
        assert message.endswith("note:\nbetter on new scans\n")
        assert not is_rollback(message)

    def test_a_rollback_is_recognised_by_its_action_line(self) -> None:
        made = Assignment(
            AssignmentAction.ROLLBACK, "prod", "model@v1.1.0", "model@v1.2.0", "ci", None, "https://ci/run/1"
        )
        message = assignment_message(made)
        assert message.startswith("Roll back prod from model@v1.2.0 to model@v1.1.0\n")
        assert is_rollback(message) and "ci run: https://ci/run/1" in message
        assert "replaced by model@v1.1.0" in unassignment_message(made, "model@v1.2.0")

    def test_a_note_cannot_pass_a_promotion_off_as_a_rollback(self) -> None:
        made = Assignment(AssignmentAction.PROMOTE, "prod", "model@v1.2.0", None, "dee", "action: rollback", None)
        assert not is_rollback(assignment_message(made))
        assert not is_rollback("a tag made by hand with `gto assign`")
