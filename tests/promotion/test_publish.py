"""`retrain publish` against moto's S3 server: the stage's model and model card land under `serving/STAGE/`, a reader
polling all the while never sees a model with another version's card, a rollback only flips the pointer, and a
deploy that read an older registry never flips the pointer back."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest
import yaml

from tests.conftest import S3
from tests.helpers import S3_BUCKET, S3_ENV, Project

pytestmark = [pytest.mark.slow, pytest.mark.s3]

SERVING = f"s3://{S3_BUCKET}/serving"


@pytest.fixture
def serving(released: Project, colleague: Project, s3: S3) -> S3:
    for clone in (released, colleague):
        clone.env.update(S3_ENV)
        clone.env["AWS_ENDPOINT_URL"] = s3.endpoint
    return s3


def ok(project: Project, *args: str) -> str:
    result = project.retrain(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def get(s3: S3, key: str) -> bytes:
    return s3.client.get_object(Bucket=S3_BUCKET, Key=key)["Body"].read()


def read_live(s3: S3, stage: str = "prod") -> tuple[dict, dict, bytes]:
    """What a serving process does: the pointer first, then the two files it names."""
    pointer = json.loads(get(s3, f"serving/{stage}/current.json"))
    card = json.loads(get(s3, f"serving/{stage}/{pointer['card']}"))
    return pointer, card, get(s3, f"serving/{stage}/{pointer['model']}")


def model_md5(project: Project, release: str) -> str:
    lock = yaml.safe_load(project.git("show", f"{release}:dvc.lock"))
    return next(out["md5"] for out in lock["stages"]["train"]["outs"] if out["path"] == "models/model.joblib")


def test_publish_writes_the_model_and_its_card_then_the_pointer(released: Project, serving: S3) -> None:
    ok(released, "promote", "v1.1.0", "--stage", "prod")

    said = ok(released, "publish", "--stage", "prod", "--to", SERVING)

    assert said == (
        f"published model@v1.1.0 for prod to {SERVING}/prod/: current.json -> v1.1.0/ "
        "(model and card uploaded, then the pointer)"
    )
    assert sorted(serving.keys("serving/")) == [
        "serving/prod/current.json",
        "serving/prod/v1.1.0/model-card.json",
        "serving/prod/v1.1.0/model.joblib",
    ]
    pointer, card, model = read_live(serving)
    md5 = model_md5(released, "model@v1.1.0")
    assert hashlib.md5(model, usedforsecurity=False).hexdigest() == md5 == card["model"]["md5"] == pointer["model_md5"]
    assert pointer["release"] == card["release"] == "model@v1.1.0"
    assert pointer["assignment"]["tag"] == "model#prod#1"
    assert card["code_commit"] == released.tags()["model@v1.1.0"]
    assert card["data_hash"].endswith(".dir") and card["rows"] > 1797 and 0.5 < card["metrics"]["accuracy"] <= 1


def test_a_reader_never_sees_a_half_updated_pair_and_a_rollback_flips_the_pointer(
    released: Project, serving: S3
) -> None:
    ok(released, "promote", "v1.0.0", "--stage", "prod")
    ok(released, "publish", "--stage", "prod", "--to", SERVING)
    seen: list[str] = []
    mismatches: list[str] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            pointer, card, model = read_live(serving)
            digest = hashlib.md5(model, usedforsecurity=False).hexdigest()
            if not (pointer["version"] == card["version"] and digest == card["model"]["md5"] == pointer["model_md5"]):
                mismatches.append(f"{pointer['version']} / {card['version']} / {digest}")
            seen.append(pointer["version"])

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        ok(released, "promote", "v1.1.1", "--stage", "prod")
        ok(released, "publish", "--stage", "prod", "--to", SERVING)
        ok(released, "rollback", "--stage", "prod")
        rolled_back = ok(released, "publish", "--stage", "prod", "--to", SERVING)
    finally:
        done.set()
        thread.join(timeout=60)

    assert mismatches == []
    assert {"v1.0.0", "v1.1.1"} <= set(seen), "the reader saw both versions go live"
    assert rolled_back.endswith("current.json -> v1.0.0/ (folder already there, pointer flipped)")
    pointer, card, _ = read_live(serving)
    assert pointer["version"] == card["version"] == "v1.0.0"


def test_a_deploy_that_read_an_older_registry_leaves_the_pointer_alone(
    released: Project, colleague: Project, serving: S3
) -> None:
    ok(released, "promote", "v1.0.0", "--stage", "prod")
    colleague.git("fetch", "--quiet", "--tags", "origin")  # the colleague's view: v1.0.0 in prod
    ok(released, "promote", "v1.1.1", "--stage", "prod")
    ok(released, "publish", "--stage", "prod", "--to", SERVING)

    said = ok(colleague, "publish", "--stage", "prod", "--to", SERVING)

    assert "already names a later assignment (model@v1.1.1" in said and "left as is" in said
    assert read_live(serving)[0]["version"] == "v1.1.1"


def test_publish_refuses_an_empty_stage_and_names_an_unusable_target(released: Project, serving: S3) -> None:
    empty = released.retrain("publish", "--stage", "staging", "--to", SERVING)
    assert empty.returncode == 1 and empty.stderr.strip() == (
        "error: no version holds staging yet: promote one with `retrain promote VERSION --stage staging`."
    )
    ok(released, "promote", "v1.0.0", "--stage", "prod")
    missing = released.retrain("publish", "--stage", "prod", "--to", "s3://no-such-bucket-here/serving")
    assert missing.returncode == 2, missing.stderr
    assert missing.stderr.startswith("error: could not write s3://no-such-bucket-here/serving/prod/")
    assert "The specified bucket does not exist" in missing.stderr
    assert missing.stderr.count("\n") == 1 and serving.keys("serving/") == []
