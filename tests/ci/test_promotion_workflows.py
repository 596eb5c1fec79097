"""promote.yml run by act against the CI sandbox (see conftest.py): a dispatched promotion tags the stage on origin
and publishes the model and its card to the bucket in the same run; a dispatch from another branch is refused before
anything runs; a rollback with nothing to go back to fails and changes nothing.
"""

from __future__ import annotations

import json

import pytest

from tests.ci.conftest import BUCKET

pytestmark = [pytest.mark.ci, pytest.mark.xdist_group("ci")]

OIDC = {"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/retrain-ci"}


def latest_release(ci) -> str:
    from retrain.versioning import latest

    found = latest(list(ci.origin_tags()), "model")
    assert found, "the sandbox starts released"
    return found.tag


def dispatch(ci, action: str, stage: str, version: str = "", note: str = "", ref: str = "refs/heads/develop"):
    inputs = {"action": action, "version": version, "stage": stage, "note": note}
    payload = {"ref": ref, "inputs": inputs, "repository": ci.repository_payload()}
    return ci.act("workflow_dispatch", "promote.yml", payload, inputs=inputs, variables=OIDC)


def stage_tags(ci) -> dict[str, str]:
    out = ci.origin_git("for-each-ref", "--format=%(refname:short) %(*objectname)", "refs/tags/model#*")
    return dict(line.split() for line in out.splitlines() if line.strip())


def pointer(ci, stage: str = "prod") -> dict:
    body = ci.s3.get_object(Bucket=BUCKET, Key=f"serving/{stage}/current.json")["Body"].read()
    return json.loads(body)


def test_a_dispatched_promotion_tags_the_stage_and_publishes_in_the_same_run(ci):
    release = latest_release(ci)
    version = release.split("@", 1)[1]

    result = dispatch(ci, "promote", "prod", version, note="first model in production")

    assert result.returncode == 0, result.explain()
    assert result.job_results() == {"develop-only": "success", "promote": "success"}, result.job_results()
    tags = stage_tags(ci)
    assert list(tags) == ["model#prod#1"] and tags["model#prod#1"] == ci.origin_tags()[release]
    message = ci.origin_git("for-each-ref", "--format=%(contents)", "refs/tags/model#prod#1")
    assert message.startswith(f"Promote {release} to prod\n") and "first model in production" in message
    assert "/acme/ml-repo/actions/runs/" in message, "the run URL is in the stage tag"
    live = pointer(ci)
    assert live["release"] == release and live["assignment"]["tag"] == "model#prod#1"
    keys = ci.bucket_keys()
    assert {f"serving/prod/{version}/model.joblib", f"serving/prod/{version}/model-card.json"} <= keys
    assert f'"release": "{release}"' in result.summary("promote")


def test_a_promotion_dispatched_from_another_branch_is_refused_before_anything_runs(ci):
    refs, live = ci.origin_refs(), pointer(ci)

    result = dispatch(ci, "promote", "prod", latest_release(ci).split("@", 1)[1], ref="refs/heads/feature-x")

    assert result.returncode != 0, result.explain()
    assert result.job_results() == {"develop-only": "failure"}, result.job_results()
    # The summary, not the step's log: act in host mode can drop the output of a step that ends in milliseconds.
    assert "Promotions are made from develop only, and this run is on feature-x" in result.summary("develop-only")
    assert ci.origin_refs() == refs and pointer(ci) == live


def test_a_rollback_with_nothing_to_go_back_to_fails_and_changes_nothing(ci):
    refs, live = ci.origin_refs(), pointer(ci)

    result = dispatch(ci, "rollback", "prod")

    assert result.returncode != 0, result.explain()
    assert result.job_results() == {"develop-only": "success", "promote": "failure"}, result.explain()
    assert "cannot roll back prod: no earlier version served it" in result.log
    assert ci.origin_refs() == refs
    assert pointer(ci) == live
