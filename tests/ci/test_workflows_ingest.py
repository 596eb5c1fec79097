"""The scheduled ingest (.github/workflows/ingest.yml) run by act, in the second sandbox (before the Travis story
there): a landing prefix in moto holding good, bad, duplicate and already-ingested deliveries. The run opens
one pull request, with the App token, holding exactly the good ones; the bad one is quarantined with its reason;
the pull-request workflow GitHub then starts reports on it; a second run does nothing."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.ci.conftest import APP_CLIENT_ID, APP_PRIVATE_KEY, APP_SLUG, BUCKET, OWNER_REPO
from tests.helpers.landing import delivery

pytestmark = [pytest.mark.ci, pytest.mark.xdist_group("ci-second")]


@pytest.fixture(scope="module")
def ci(second_ci):
    """The second sandbox (Travis tells its story there too): the ingest needs nothing the first story left."""
    return second_ci


LANDING = f"s3://{BUCKET}/landing/"
BRANCH = "ingest/dvc-exemplar-landing"
APP = {
    "INGEST_APP_CLIENT_ID": APP_CLIENT_ID,
    "INGEST_LANDING": LANDING,
    "INGEST_AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/retrain-ingest",
}
SECRETS = {"INGEST_APP_PRIVATE_KEY": APP_PRIVATE_KEY}
INGEST_TITLE = "CML watermark retrain ingest"


def schedule_payload() -> dict:
    return {"schedule": "17 * * * *", "repository": {"full_name": OWNER_REPO}}


def put(ci, name: str, content: bytes) -> None:
    ci.s3.put_object(Bucket=BUCKET, Key=f"landing/{name}", Body=content)


def ingest_keys(ci, rev: str) -> list[str]:
    names = ci.origin_git("ls-tree", "--name-only", rev, "data/raw/").split()
    specs = [yaml.safe_load(ci.origin_git("show", f"{rev}:{name}")) for name in names if name.endswith(".dvc")]
    return sorted(spec["meta"]["ingest"]["key"] for spec in specs if "meta" in spec)


def pull_requests(ci) -> list[dict]:
    return [record for record in ci.cml_records() if record.get("kind") == "pr" and record["action"] == "create"]


def ingest(ci):
    # The App the ingest job mints its token from (docs/ci.md), installed on the repository.
    ci.forge.install_app(
        APP_CLIENT_ID, APP_SLUG, APP_PRIVATE_KEY, {"contents": "write", "pull_requests": "write", "metadata": "read"}
    )
    result = ci.act("schedule", "ingest.yml", schedule_payload(), variables=APP, secrets=SECRETS)
    assert result.returncode == 0, result.explain()
    return result


def test_scheduled_ingest_opens_one_pull_request_with_the_good_deliveries(ci):
    # An earlier ingest, merged: its delivery is recorded on develop.
    put(ci, "2025-03-01-first.csv", delivery(40, seed=11))
    ingest(ci)
    (first,) = pull_requests(ci)
    ci.merge_pr(first["number"], f"origin/{BRANCH}")
    with ci.cml_log.open("a") as log:
        log.write(json.dumps({"kind": "pr", "action": "close", "number": first["number"]}) + "\n")

    good = delivery(40, seed=12)
    put(ci, "2025-03-02-good.csv", good)
    put(ci, "2025-03-03-good.csv", delivery(40, seed=13))
    put(ci, "2025-03-04-bad.csv", delivery(40, seed=14, bad_label_at=6))
    put(ci, "2025-03-05-same-as-good.csv", good)
    develop = ci.origin_head()

    result = ingest(ci)

    opened = [pr for pr in pull_requests(ci) if pr["number"] != first["number"]]
    assert len(opened) == 1, pull_requests(ci)
    pr = opened[0]
    assert (pr["source"], pr["target"]) == (BRANCH, "develop") and pr["token_set"]
    assert "2025-03-04-bad.csv" in pr["body"] and "rejected" in pr["body"]
    tip = ci.origin_head(BRANCH)
    assert ci.origin_git("merge-base", "--is-ancestor", develop, tip) == ""
    new = sorted(set(ingest_keys(ci, tip)) - set(ingest_keys(ci, develop)))
    assert new == ["landing/2025-03-02-good.csv", "landing/2025-03-03-good.csv"], "exactly the good ones"
    assert ci.origin_head() == develop, "develop untouched: the team reviews the data"
    reason = ci.s3.get_object(Bucket=BUCKET, Key="rejected/2025-03-04-bad.csv.reason.yaml")["Body"].read().decode()
    assert "column ''label'': unknown label" in reason and "line 6" in reason
    comments = ci.comments_on("pr", pr["number"])
    assert [c["watermark"] for c in comments] == [INGEST_TITLE]
    assert "2025-03-05-same-as-good.csv" in comments[0]["body"] and "same content as" in comments[0]["body"]
    assert "ingest: 2 ingested, 1 rejected, 1 already ingested, 1 duplicate" in result.summary("ingest")
    minted = [token for token in ci.forge.state()["tokens"].values() if token["kind"] == "app"]
    assert minted[-1]["permissions"] == {"contents": "write", "pull_requests": "write"}, "only what it needs"
    ci.state["ingest_pr"] = pr

    # GitHub starts the pull-request workflow for a pull request the App opened: it reports on it.
    payload = ci.pull_request_payload(pr["number"], tip, BRANCH, "opened")
    report = ci.act("pull_request", "pr.yml", payload, variables={"AWS_ROLE_ARN": APP["INGEST_AWS_ROLE_ARN"]})
    assert report.returncode == 0, report.explain()
    titles = [c["watermark"] for c in ci.comments_on("pr", pr["number"])]
    assert sorted(titles) == sorted([INGEST_TITLE, "CML watermark retrain pull-request report"])


def test_a_second_scheduled_run_does_nothing(ci):
    tip, records = ci.origin_head(BRANCH), pull_requests(ci)

    result = ingest(ci)

    assert ci.origin_head(BRANCH) == tip, "no commit"
    assert pull_requests(ci) == records, "no second pull request for the same deliveries"
    assert "ingest: nothing new" in result.summary("ingest")
