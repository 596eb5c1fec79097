"""The release engine's decisions, without git, DVC or S3: what a run does given the tags, the lock and origin."""

from __future__ import annotations

from pipeline.errors import STAGE_ERROR_FILE_ENV as PIPELINE_SIDE
from retrain import decisions
from retrain.errors import STAGE_ERROR_FILE_ENV as ENGINE_SIDE
from retrain.steps import Step
from retrain.versioning import TaggedVersion, Version

HEAD, OLD = "h" * 40, "o" * 40


class TestReleaseState:
    def test_first_run_releases(self) -> None:
        state = decisions.release_state({}, HEAD, "model", "lock", None)
        assert state.releases and state.base is None and state.base_tag is None

    def test_unchanged_lock_is_up_to_date(self) -> None:
        state = decisions.release_state({"model@v1.0.0": OLD}, HEAD, "model", "lock", "lock")
        assert not state.releases and state.base_tag == "model@v1.0.0"

    def test_changed_lock_releases_on_top_of_the_latest(self) -> None:
        tags = {"model@v1.0.0": OLD, "model@v1.2.0": OLD, "model@v1.10.0": OLD, "other@v9.0.0": OLD}
        state = decisions.release_state(tags, HEAD, "model", "new", "old")
        assert state.releases and state.base == TaggedVersion("model@v1.10.0", Version(1, 10, 0))

    def test_a_release_on_head_is_never_made_twice(self) -> None:
        """An interrupted run tagged HEAD but did not push: the re-run finds it and pushes it, no new version."""
        state = decisions.release_state({"model@v1.0.0": OLD, "model@v1.1.0": HEAD}, HEAD, "model", "x", "y")
        assert not state.releases and state.on_head == "model@v1.1.0"

    def test_stage_tags_are_not_releases(self) -> None:
        state = decisions.release_state({"model#prod#1": OLD, "model@v1.0.0": OLD}, HEAD, "model", "a", "b")
        assert state.base_tag == "model@v1.0.0"

    def test_a_tag_off_the_history_is_no_base_but_is_named_and_its_number_taken(self) -> None:
        on_history = {"model@v1.0.0": OLD}
        every = {**on_history, "model@v9.0.0": "f" * 40, "model@v1.1.0": "e" * 40}
        state = decisions.release_state(on_history, HEAD, "model", "new", "old", every)
        assert state.base_tag == "model@v1.0.0"
        assert state.ignored == ("model@v1.1.0", "model@v9.0.0")
        assert state.taken == frozenset(every)


class TestOriginMoved:
    def test_origin_tags_win_and_local_only_tags_survive_only_on_head(self) -> None:
        local = {"model@v1.0.0": OLD, "model@v1.1.0": "x" * 40, "model@v1.2.0": HEAD, "model@v0.9.0": OLD}
        remote = {"model@v1.0.0": OLD, "model@v1.1.0": "y" * 40}
        stale = decisions.stale_local_tags(local, remote, HEAD)
        assert set(stale) == {"model@v1.1.0", "model@v0.9.0"}
        assert "origin's" in stale["model@v1.1.0"] and "never reached origin" in stale["model@v0.9.0"]

    def test_only_the_engines_own_commits_are_dropped(self) -> None:
        owned = ("dvc.lock", "metrics/metrics.json")
        marked = "retrain: +5 rows\n\nRetrain-Commit: release\n"
        assert decisions.is_engine_commit(marked, ["dvc.lock"], owned)
        assert not decisions.is_engine_commit(marked, ["dvc.lock", "src/x.py"], owned)
        assert not decisions.is_engine_commit("update dvc.lock", ["dvc.lock"], owned)
        # the trailer counts only as a trailer (the last paragraph), not quoted in a subject or a body
        assert not decisions.is_engine_commit("Retrain-Commit: release", ["dvc.lock"], owned)
        assert not decisions.is_engine_commit("x\n\nRetrain-Commit: release\n\nsigned", ["dvc.lock"], owned)
        assert decisions.is_engine_commit("retrain: +5 rows [skip ci]", ["dvc.lock"], owned), "older engine commits"


def test_the_commit_mark_is_no_skip_instruction_for_github() -> None:
    """GitHub skips push and pull_request workflows for these in the head commit ("Skipping workflow runs"): the
    engine's mark must be none of them, or a develop -> main pull request on the release commit stays Pending."""
    message = decisions.commit_message(5, {}, "accuracy", 0.9, {})
    skips = ("[skip ci]", "[ci skip]", "[no ci]", "[skip actions]", "[actions skip]")
    assert not any(skip in message.lower() for skip in skips)
    assert "skip-checks" not in message.lower()
    assert decisions.has_commit_mark(message)


def test_commit_message_says_what_changed_in_one_line() -> None:
    message = decisions.commit_message(200, {"train.C": (1.0, 0.5)}, "accuracy", 0.91234, {"f1_macro": 0.9})
    subject, _, trailer = message.partition("\n\n")
    assert subject == "retrain: +200 rows; train.C 1.0->0.5; accuracy 0.9123, f1_macro 0.9000"
    assert trailer == "Retrain-Commit: release\n"


def test_steps_are_numbered_in_cycle_order() -> None:
    assert [step.number for step in Step] == list(range(1, len(Step) + 1))
    assert Step.PREFLIGHT.number == 1 and Step.REPORT.number == len(Step)


def test_the_stage_error_file_contract_is_the_same_on_both_sides() -> None:
    """The engine never imports the pipeline: the variable's name is written twice and must agree."""
    assert PIPELINE_SIDE == ENGINE_SIDE


class TestGate:
    """The quality gate, both ways a metric can be better and both ways to state the margin."""

    def test_higher_is_better_absolute_drop_within_margin_passes(self) -> None:
        assert decisions.gate("accuracy", 0.95, 0.96, 0.02).passed

    def test_higher_is_better_drop_beyond_margin_fails_with_both_numbers(self) -> None:
        verdict = decisions.gate("accuracy", 0.90, 0.96, 0.02)
        assert not verdict.passed
        assert "0.9000" in verdict.reason and "0.9600" in verdict.reason and "-0.0600" in verdict.reason
        assert "largest drop allowed 0.0200" in verdict.reason

    def test_first_release_passes_whatever_the_direction(self) -> None:
        assert decisions.gate("f1_macro", 0.5, None, 0.0).passed
        assert decisions.gate("rmse", 1e9, None, 0.0, lower_is_better=True).passed

    def test_lower_is_better_refuses_a_rise_and_passes_a_fall(self) -> None:
        """RMSE 60 after 50 is worse by 10: refused with a margin of 5; RMSE 40 is better: passed, even with none."""
        worse = decisions.gate("rmse", 60.0, 50.0, 5.0, lower_is_better=True)
        assert not worse.passed and "largest rise allowed 5.0000" in worse.reason and "+10.0000" in worse.reason
        assert decisions.gate("rmse", 40.0, 50.0, 0.0, lower_is_better=True).passed
        assert decisions.gate("rmse", 54.0, 50.0, 5.0, lower_is_better=True).passed

    def test_higher_is_better_would_have_inverted_a_loss(self) -> None:
        """The bug this fixes: a lower-is-better metric gated as higher-is-better refuses the better model."""
        assert not decisions.gate("rmse", 40.0, 50.0, 0.0).passed
        assert decisions.gate("rmse", 40.0, 50.0, 0.0, lower_is_better=True).passed

    def test_relative_threshold_is_a_fraction_of_the_release_value(self) -> None:
        """10% of 50 is 5: a rise to 54 passes, to 56 does not; for accuracy 5% of 0.9 is 0.045."""
        assert decisions.gate("rmse", 54.0, 50.0, 0.10, lower_is_better=True, relative=True).passed
        refused = decisions.gate("rmse", 56.0, 50.0, 0.10, lower_is_better=True, relative=True)
        assert not refused.passed and refused.allowed == 5.0
        assert decisions.gate("accuracy", 0.86, 0.90, 0.05, relative=True).passed
        assert not decisions.gate("accuracy", 0.85, 0.90, 0.05, relative=True).passed

    def test_relative_threshold_of_a_negative_metric_uses_its_size(self) -> None:
        """A metric below zero (R² of a poor model, a log-likelihood): the margin is a fraction of its magnitude."""
        assert decisions.gate("r2", -0.11, -0.10, 0.2, relative=True).passed
        assert not decisions.gate("r2", -0.13, -0.10, 0.2, relative=True).passed
