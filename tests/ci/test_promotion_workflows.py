"""promote.yml and deploy.yml run by act against the CI sandbox (see conftest.py): a dispatched promotion tags the
stage on origin and publishes the model and its card to the bucket in the same run; a pushed stage tag starts the
deploy hook, which publishes what the stage holds; a rollback with nothing to go back to fails and changes nothing.
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
    return found[0]


def dispatch(ci, action: str, stage: str, version: str = "", note: str = ""):
    inputs = {"action": action, "version": version, "stage": stage, "note": note}
    payload = {"ref": "refs/heads/develop", "inputs": inputs, "repository": ci.repository_payload()}
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
    assert result.job_results() == {"promote": "success"}, result.job_results()
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


def test_a_pushed_stage_tag_starts_the_deploy_hook_which_publishes_the_stage(ci):
    ci.s3.delete_object(Bucket=BUCKET, Key="serving/prod/current.json")
    tag = "model#prod#1"
    commit = stage_tags(ci)[tag]
    payload = {"ref": f"refs/tags/{tag}", "before": "0" * 40, "after": commit, "repository": ci.repository_payload()}

    result = ci.act("push", "deploy.yml", payload, variables=OIDC)

    assert result.returncode == 0, result.explain()
    assert result.job_results() == {"stage": "success", "deploy": "success"}, result.job_results()
    assert "stage tag model#prod#1: stage prod" in result.log
    assert pointer(ci)["assignment"]["tag"] == tag
    assert "folder already there, pointer flipped" in result.log


def test_a_rollback_with_nothing_to_go_back_to_fails_and_changes_nothing(ci):
    refs, live = ci.origin_refs(), pointer(ci)

    result = dispatch(ci, "rollback", "prod")

    assert result.returncode != 0 and result.job_results() == {"promote": "failure"}, result.explain()
    assert "cannot roll back prod: no earlier version served it" in result.log
    assert ci.origin_refs() == refs
    assert pointer(ci) == live
