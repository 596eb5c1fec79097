"""Role boundaries, conditions included: every S3 call the engine makes in each role's job is allowed by the shipped
policies (docs/aws: the role's permission files and the bucket policy), and the calls a role must never make are
denied, decided by tests/ci/iam_eval.py (moto's IAM enforcement ignores conditions; see test_trust.py for that).

What this file does not check, and where it is checked instead:
* trust policies' OIDC conditions (which job may assume which role): test_trust.py, from the workflow files;
* EC2's own conditions and resource-level rules beyond `aws:RequestedRegion` (instance types, tags, subnets): only
  the launch role's EC2 actions and its region condition are evaluated here; KMS is not used (SSE-S3);
* whether S3 answers 404 or 403 for a missing key (it needs s3:ListBucket, which S3 checks without documenting the
  context; the roles hold s3:ListBucket only under their prefixes): not modelled, see docs/aws/README.md.

The calls are derived from the code, each with where it comes from; the preflight's and the S3 landing's are also
recorded from the real code against moto's server, so a change of call there cannot slip past the tables.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ci import iam_eval
from tests.ci.iam_eval import ACCOUNT, ALLOW, DENY, IMPLICIT_DENY, Request, decide, s3_requests

AWS_DOCS = Path(__file__).resolve().parents[2] / "docs" / "aws"
ROLES = json.loads((AWS_DOCS / "roles.json").read_text())
BUCKET = "dvc-exemplar"
REMOTE = "artifact-versioning"  # .dvc/config's s3remote (test_trust.py checks the files name it)
PR_REMOTE = "pull-requests"  # s3remote-pr
LANDING, REJECTED = "landing/", "rejected/"  # ingest.yml's INGEST_LANDING as documented, rejected/ beside it
OBJECT = f"{REMOTE}/files/md5/3f/0e2c6d1b7a4e5f60718293a4b5c6d7e8"  # DVC 3: <prefix>/files/md5/XX/REST
MODEL = f"{REMOTE}/files/md5/9a/41c7f0e2b3d4a5968778695a4b3c2d1e"
RUN = f"{REMOTE}/runs/5c/5c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2/0a1b2c3d"
DELIVERY = f"{LANDING}2026-12-03T10-00-00Z-orders.csv"
QUARANTINED = f"{REJECTED}2026-12-03T10-00-00Z-orders.csv"


def principal(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/alice" if ROLES[name].get("group") else f"arn:aws:iam::{ACCOUNT}:role/{name}"


def identity(name: str) -> list[dict]:
    spec = ROLES[name]
    return [iam_eval.load(AWS_DOCS / file, spec.get("placeholders")) for file in spec["permissions"]]


BUCKET_POLICY = [iam_eval.load(AWS_DOCS / "bucket-policy.json")]


def decision(name: str, requests: list[Request]) -> str:
    """The call's outcome: DENY if any of its IAM requests is explicitly denied, IMPLICIT_DENY if any is not
    allowed, else ALLOW."""
    outcomes = [decide(r, identity(name), BUCKET_POLICY, principal(name)) for r in requests]
    return DENY if DENY in outcomes else IMPLICIT_DENY if IMPLICIT_DENY in outcomes else ALLOW


def call(operation: str, key: str | None = None, **kwargs) -> tuple[str, list[Request]]:
    shown = f"{operation} {key or kwargs.get('prefix', '')}"
    return shown, s3_requests(operation, BUCKET, key, **kwargs)


# --- what the engine calls, by where it comes from -------------------------------------------------------------
def preflight(remote: str) -> list:
    """retrain.remotes.check_s3: ListObjectsV2(Prefix=<remote prefix>/, MaxKeys=1)."""
    return [call("ListObjectsV2", prefix=f"{remote}/")]


def dvc_exists(key: str) -> list:
    """dvc-objects' fs.exists (Pipeline.missing_in_remote, dvc status/push/pull): s3fs HEADs the key and, when it is
    missing, lists `<key>/` to see whether it is a directory."""
    return [call("HeadObject", key), call("ListObjectsV2", prefix=f"{key}/")]


def dvc_put(key: str) -> list:
    """s3fs put_file (dvc push, Pipeline.upload_from_cache): one PutObject, or a multipart upload (aborted when it
    fails)."""
    return [call(op, key) for op in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload")] + [
        call("AbortMultipartUpload", key)
    ]


def dvc_get(key: str) -> list:
    return [call("GetObject", key)]


def dvc_list(prefix: str) -> list:
    """dvc-objects' traverse of a large remote, and the run-cache listing of `dvc pull --run-cache`."""
    return [call("ListObjectsV2", prefix=prefix)]


def landing_calls() -> list:
    """retrain.ingest.landing.S3Landing: check and list (ListObjectsV2 under the landing), rejection (GetObject of the
    reason file), download (GetObject), quarantine (CopyObject of the validated version, else upload_file, then
    PutObject of the reason file), has_copy (ListObjectsV2 under rejected/KEY), delete (HeadObject, DeleteObject)."""
    return [
        call("ListObjectsV2", prefix=LANDING),
        call("GetObject", f"{QUARANTINED}.reason.yaml"),
        call("GetObject", DELIVERY),
        call("CopyObject", QUARANTINED, source=(BUCKET, DELIVERY, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")),
        *dvc_put(QUARANTINED),
        call("PutObject", f"{QUARANTINED}.reason.yaml"),
        call("ListObjectsV2", prefix=QUARANTINED),
        call("HeadObject", DELIVERY),
        call("DeleteObject", DELIVERY),
    ]


def release_job() -> list:
    """retrain.yml's retrain job (retrain run --push): preflight, `dvc repro --pull` with the run-cache (files/ and
    runs/ read), push of objects and run-cache entries, the per-object verify; the opt-in --trust-runs-from reads
    pull-requests/ (its run-cache and objects)."""
    return [
        *preflight(REMOTE),
        *dvc_exists(OBJECT),
        *dvc_get(OBJECT),
        *dvc_list(f"{REMOTE}/files/md5/3f/"),
        *dvc_list(f"{REMOTE}/runs/"),
        *dvc_exists(RUN),
        *dvc_get(RUN),
        *dvc_put(OBJECT),
        *dvc_put(RUN),
        *dvc_list(f"{PR_REMOTE}/runs/"),
        *dvc_get(f"{PR_REMOTE}/runs/5c/5c1d/0a1b"),
        *dvc_exists(f"{PR_REMOTE}/files/md5/3f/0e2c"),
        *dvc_get(f"{PR_REMOTE}/files/md5/3f/0e2c"),
    ]


def pull_request_job() -> list:
    """pr.yml (retrain report --reproduce --push-to s3remote-pr): preflight of the release remote, reads of it, and
    runcache.push_apart: run-cache entries and objects checked in both remotes, written to pull-requests/ only."""
    return [
        *preflight(REMOTE),
        *dvc_exists(OBJECT),
        *dvc_get(OBJECT),
        *dvc_list(f"{REMOTE}/runs/"),
        *dvc_get(RUN),
        *dvc_exists(RUN),
        *dvc_exists(f"{PR_REMOTE}/runs/5c/5c1d/0a1b"),
        *dvc_put(f"{PR_REMOTE}/runs/5c/5c1d/0a1b"),
        *dvc_exists(f"{PR_REMOTE}/files/md5/3f/0e2c"),
        *dvc_put(f"{PR_REMOTE}/files/md5/3f/0e2c"),
    ]


def ingest_job() -> list:
    """ingest.yml (retrain ingest): preflight, the landing, then Pipeline.missing_in_remote / upload_from_cache of the
    batch objects (the verify is the second missing_in_remote), and missing_in_remote again before retention."""
    return [*preflight(REMOTE), *landing_calls(), *dvc_exists(OBJECT), *dvc_put(OBJECT)]


def stage_job(stage: str) -> list:
    """promote.yml / deploy.yml (retrain promote, retrain publish): preflight, the model fetched with DVC
    (Pipeline.unavailable, fetch_objects), then serving.Target: read_json (exists, cat), put_file, write_json."""
    serving = f"serving/{stage}/"
    return [
        *preflight(REMOTE),
        *dvc_exists(MODEL),
        *dvc_get(MODEL),
        *dvc_exists(f"{serving}v1.2.0/model-card.json"),
        *dvc_get(f"{serving}v1.2.0/model-card.json"),
        *dvc_put(f"{serving}v1.2.0/model.joblib"),
        call("PutObject", f"{serving}v1.2.0/model-card.json"),
        *dvc_exists(f"{serving}current.json"),
        *dvc_get(f"{serving}current.json"),
        call("PutObject", f"{serving}current.json"),
    ]


def contributor_push() -> list:
    """README's workflow: `dvc pull` (objects and run-cache) and `dvc push -r s3remote <batch>.dvc`."""
    return [
        *preflight(REMOTE),
        *dvc_list(f"{REMOTE}/runs/"),
        *dvc_get(RUN),
        *dvc_exists(OBJECT),
        *dvc_get(OBJECT),
        *dvc_list(f"{REMOTE}/files/md5/3f/"),
        *dvc_put(OBJECT),
    ]


def writes(key: str) -> list:
    return [call("PutObject", key), call("DeleteObject", key)]


STAGES = ["dev", "staging", "prod"]
NEVER = {
    "retrain-pull-request": [
        *writes(OBJECT),
        *writes(RUN),
        call("DeleteObject", f"{PR_REMOTE}/runs/x"),
        *writes("serving/prod/current.json"),
    ],
    "retrain-release": [
        *writes(f"{PR_REMOTE}/runs/x"),
        call("DeleteObject", OBJECT),
        call("DeleteObject", RUN),
        *writes("serving/prod/current.json"),
    ],
    "retrain-ingest": [
        *dvc_put(RUN),
        call("DeleteObject", RUN),
        call("DeleteObject", OBJECT),
        call("PutObject", f"{REMOTE}/files/md5/3f"),  # not an object key of DVC's layout
        call("PutObject", f"{REMOTE}/runs.json"),
        *dvc_get(RUN),
        *dvc_list(f"{REMOTE}/runs/"),
        *writes(f"{PR_REMOTE}/runs/x"),
        *writes("serving/prod/current.json"),
        call("DeleteObject", QUARANTINED),
        call("HeadBucket"),
    ],
    "retrain-runner-launch": [*preflight(REMOTE), *dvc_get(OBJECT), *dvc_put(OBJECT), *dvc_put(RUN)],
    "retrain-runner-instance": [
        *writes(f"{PR_REMOTE}/runs/x"),
        call("DeleteObject", OBJECT),
        *landing_calls()[:1],
        call("DeleteObject", DELIVERY),
        *writes("serving/prod/current.json"),
    ],
    "retrain-contributor": [
        *dvc_put(RUN),
        call("DeleteObject", OBJECT),
        call("DeleteObject", RUN),
        call("PutObject", f"{REMOTE}/dvc.lock"),
        *writes(f"{PR_REMOTE}/files/md5/3f/0e2c"),
        *writes("serving/prod/current.json"),
        *landing_calls()[:1],
    ],
}
for _stage in STAGES:
    NEVER[f"retrain-stage-{_stage}"] = [
        *dvc_put(OBJECT),
        *dvc_put(RUN),
        call("DeleteObject", OBJECT),
        *[c for other in STAGES if other != _stage for c in writes(f"serving/{other}/current.json")],
        call("DeleteObject", f"serving/{_stage}/current.json"),
        *writes(f"{PR_REMOTE}/runs/x"),
        *landing_calls()[:1],
    ]

ALLOWED = {
    "retrain-pull-request": pull_request_job(),
    "retrain-release": release_job() + landing_calls(),  # release-mode ingest runs as the release role
    "retrain-ingest": ingest_job(),
    "retrain-runner-instance": release_job(),
    "retrain-contributor": contributor_push(),
    **{f"retrain-stage-{stage}": stage_job(stage) for stage in STAGES},
}


def test_every_role_and_policy_file_is_covered_here():
    assert set(NEVER) == set(ROLES), "a role without calls it must never make"
    assert set(ALLOWED) | {"retrain-runner-launch"} == set(ROLES), "a role without the calls its job makes"
    shipped = {p.name for p in AWS_DOCS.glob("*.json")} - {
        "roles.json",
        "iam-policy.schema.json",
        "bucket-settings.json",
    }
    used = {"bucket-policy.json"} | {f for spec in ROLES.values() for f in [spec.get("trust"), *spec["permissions"]]}
    assert shipped == used - {None}, "every policy file belongs to a role, and every role's file is shipped"
    assert {f"retrain-stage-{stage}" for stage in STAGES} <= set(ROLES)
    assert sorted(STAGES) == sorted(spec["placeholders"]["STAGE"] for name, spec in ROLES.items() if "stage-" in name)


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_call_of_the_roles_job_is_allowed(role):
    refused = [(shown, decision(role, requests)) for shown, requests in ALLOWED[role]]
    refused = [item for item in refused if item[1] != ALLOW]
    assert not refused, f"{role}: {refused}"


@pytest.mark.parametrize("role", sorted(NEVER))
def test_each_call_the_role_must_never_make_is_denied(role):
    allowed = [shown for shown, requests in NEVER[role] if decision(role, requests) == ALLOW]
    assert not allowed, f"{role} may: {allowed}"


def test_the_preflight_is_allowed_to_every_role_of_an_engine_job_and_head_bucket_to_none():
    """The reason the preflight lists: HeadBucket carries no s3:prefix, and every role lists only under prefixes."""
    for role in ALLOWED:
        assert decision(role, preflight(REMOTE)[0][1]) == ALLOW, role
        assert decision(role, s3_requests("HeadBucket", BUCKET)) == IMPLICIT_DENY, role


def test_the_launch_role_does_ec2_in_its_region_and_passes_only_the_instance_role_to_ec2():
    """EC2 conditions beyond the region are not evaluated (see the module's docstring); this checks the actions,
    the region condition and iam:PassRole."""
    role = "retrain-runner-launch"
    region = {"aws:RequestedRegion": "us-east-1"}
    for action in ("ec2:RunInstances", "ec2:TerminateInstances", "ec2:CreateTags", "ec2:DescribeInstances"):
        assert decision(role, [Request(action, "*", region)]) == ALLOW, action
    assert decision(role, [Request("ec2:RunInstances", "*", {"aws:RequestedRegion": "eu-west-1"})]) == IMPLICIT_DENY
    instance = f"arn:aws:iam::{ACCOUNT}:role/retrain-runner-instance"
    to_ec2 = {"iam:PassedToService": "ec2.amazonaws.com"}
    assert decision(role, [Request("iam:PassRole", instance, to_ec2)]) == ALLOW
    assert decision(role, [Request("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/retrain-release", to_ec2)]) != ALLOW
    assert decision(role, [Request("iam:PassRole", instance, {"iam:PassedToService": "lambda.amazonaws.com"})]) != ALLOW
    actions = {a for policy in identity(role) for s in policy["Statement"] for a in iam_eval.as_list(s["Action"])}
    assert all(a.startswith("ec2:") for a in actions - {"iam:PassRole"}), actions
    for other in ROLES.keys() - {role}:
        assert decision(other, [Request("ec2:RunInstances", "*", region)]) == IMPLICIT_DENY, other


def test_the_bucket_policy_denies_run_cache_writes_to_all_but_releases_whatever_a_role_is_given():
    """Defence in depth: even a role whose own policy allowed everything could not write runs/."""
    everything = [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}]
    put_run = s3_requests("PutObject", BUCKET, RUN)[0]
    for name in ROLES:
        expected = ALLOW if name in ("retrain-release", "retrain-runner-instance") else DENY
        assert decide(put_run, everything, BUCKET_POLICY, principal(name)) == expected, name
    plain_http = Request(put_run.action, put_run.resource, {"aws:SecureTransport": "false"})
    assert decide(plain_http, everything, BUCKET_POLICY, principal("retrain-release")) == DENY
    put_object = s3_requests("PutObject", BUCKET, OBJECT)[0]
    assert decide(put_object, everything, BUCKET_POLICY, principal("retrain-pull-request")) == DENY


def test_the_instance_role_holds_what_the_release_job_needs_on_s3_and_no_more():
    assert identity("retrain-runner-instance") == [identity("retrain-release")[0]], "release-role-permissions.json"


# --- a property: the ingest role and contributors write batch objects only ---------------------------------------
SEGMENT = st.text(alphabet="ab3f/.-_*?", min_size=0, max_size=12)
KEYS = st.builds(
    lambda start, rest: start + rest,
    st.sampled_from(
        [
            "",
            f"{REMOTE}",
            f"{REMOTE}/",
            f"{REMOTE}/files/",
            f"{REMOTE}/files/md5",
            f"{REMOTE}/files/md5/",
            f"{REMOTE}/files/md5/3f/",
            f"{REMOTE}/runs/",
            f"{REMOTE}/files/md5/../../runs/",
            f"{PR_REMOTE}/",
            LANDING,
            REJECTED,
            "serving/prod/",
        ]
    ),
    SEGMENT,
)
WRITES = ["PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "DeleteObject"]


@settings(max_examples=300, deadline=None)
@given(key=KEYS, operation=st.sampled_from(WRITES))
def test_the_ingest_role_and_contributors_never_write_outside_batch_objects(key, operation):
    # DVC 3's object layout, <prefix>/files/md5/XX/...: S3 keys are literal, so `..` there is two characters.
    batch_object = re.fullmatch(rf"{REMOTE}/files/md5/../.*", key, re.DOTALL) is not None
    requests = s3_requests(operation, BUCKET, key)
    if decision("retrain-ingest", requests) == ALLOW:
        if operation == "DeleteObject":
            assert key.startswith(LANDING), key  # retention deletes originals, nothing else
        else:
            assert batch_object or key.startswith(REJECTED), key
    if decision("retrain-contributor", requests) == ALLOW:
        assert batch_object and operation != "DeleteObject", key


def test_the_property_sees_both_sides():
    """The property above is not vacuous: its keys reach allowed writes as well as denied ones."""
    assert decision("retrain-ingest", s3_requests("PutObject", BUCKET, f"{REMOTE}/files/md5/3f/x")) == ALLOW
    assert decision("retrain-ingest", s3_requests("PutObject", BUCKET, f"{REMOTE}/files/md5/3/x")) == IMPLICIT_DENY
    assert decision("retrain-ingest", s3_requests("PutObject", BUCKET, f"{REMOTE}/runs/x")) == DENY


# --- the real calls, recorded against moto's server ------------------------------------------------------------
def _recording(monkeypatch, module) -> list[tuple[str, dict]]:
    """Wrap `module.s3_client` so that every client it makes records each call's operation and parameters."""
    made = []
    real = module.s3_client

    def recording_client(config):
        client = real(config)

        def record(params, model, **_):
            made.append((model.name, dict(params)))

        client.meta.events.register("before-parameter-build.s3", record)
        return client

    monkeypatch.setattr(module, "s3_client", recording_client)
    return made


def _copy_source(value) -> tuple[str, str, str | None] | None:
    """CopyObject's source, as the caller gave it or as botocore's own handler has already made it
    (`bucket/key?versionId=V`, URL-quoted)."""
    if value is None or isinstance(value, dict):
        return value and (value["Bucket"], value["Key"], value.get("VersionId"))
    path, _, query = value.partition("?")
    bucket, _, key = unquote(path).partition("/")
    return bucket, key, parse_qs(query).get("versionId", [None])[0]


def _as_requests(operation: str, params: dict) -> tuple[str, list[Request]]:
    return f"{operation} {params.get('Key') or params.get('Prefix', '')}", s3_requests(
        operation,
        params["Bucket"],
        params.get("Key"),
        prefix=params.get("Prefix"),
        version=params.get("VersionId"),
        source=_copy_source(params.get("CopySource")),
    )


@pytest.mark.s3
def test_the_preflight_and_the_landing_make_only_calls_their_roles_may(s3, monkeypatch, tmp_path):
    from retrain import remotes
    from retrain.ingest import landing as landing_module
    from retrain.ingest.landing import open_landing, reason_document

    preflight_calls = _recording(monkeypatch, remotes)
    remotes.check_s3("s3remote", {"url": f"s3://{BUCKET}/{REMOTE}", "endpointurl": s3.endpoint})
    assert [op for op, _ in preflight_calls] == ["ListObjectsV2"]
    for role in ALLOWED:
        assert decision(role, _as_requests(*preflight_calls[0])[1]) == ALLOW, role

    landing_calls_made = _recording(monkeypatch, landing_module)
    for name, body in (("refused.csv", b"not,a\nbatch"), ("old.csv", b"a,b\n1,2\n")):
        s3.client.put_object(Bucket=BUCKET, Key=f"{LANDING}{name}", Body=body)
    landing = open_landing(f"s3://{BUCKET}/{LANDING}", {"url": f"s3://{BUCKET}/{REMOTE}", "endpointurl": s3.endpoint})
    landing.check()
    listed = {item.key.rsplit("/", 1)[-1]: item for item in landing.list(None)}
    assert landing.rejection(listed["refused.csv"].key) is None
    read = landing.download(listed["refused.csv"], tmp_path / "refused.csv")
    landing.quarantine(
        read, tmp_path / "refused.csv", reason_document(landing.url, read, "bad", "2026-12-03T00:00:00Z")
    )
    assert landing.rejection(read.key) is not None and landing.has_copy(read.key)
    assert landing.delete(listed["old.csv"].key, listed["old.csv"].etag)
    made = {op for op, _ in landing_calls_made}
    assert {"ListObjectsV2", "GetObject", "CopyObject", "PutObject", "HeadObject", "DeleteObject"} <= made, made
    copies = [_copy_source(params["CopySource"]) for op, params in landing_calls_made if op == "CopyObject"]
    assert copies and all(version for _, _, version in copies), f"the validated version is copied: {copies}"
    for role in ("retrain-ingest", "retrain-release"):
        refused = [(shown, decision(role, r)) for shown, r in map(lambda c: _as_requests(*c), landing_calls_made)]
        assert all(outcome == ALLOW for _, outcome in refused), (role, refused)
    for role in ("retrain-pull-request", "retrain-runner-instance", "retrain-contributor", "retrain-stage-prod"):
        outcomes = {decision(role, _as_requests(*c)[1]) for c in landing_calls_made}
        assert outcomes != {ALLOW}, f"{role} could run an ingest"


# --- the evaluator itself, on AWS's documented semantics ---------------------------------------------------------
def _policy(*statements: dict) -> list[dict]:
    return [{"Version": "2012-10-17", "Statement": list(statements)}]


LIST_UNDER_PREFIX = {
    "Effect": "Allow",
    "Action": "s3:ListBucket",
    "Resource": "arn:aws:s3:::b",
    "Condition": {"StringLike": {"s3:prefix": ["data/*"]}},
}


def test_eval_head_bucket_carries_no_prefix_so_a_prefix_conditioned_list_grant_does_not_cover_it():
    policies = _policy(LIST_UNDER_PREFIX)
    assert decide(s3_requests("HeadBucket", "b")[0], policies) == IMPLICIT_DENY
    assert decide(s3_requests("ListObjectsV2", "b", prefix="data/")[0], policies) == ALLOW
    assert decide(s3_requests("ListObjectsV2", "b", prefix="data/x/y")[0], policies) == ALLOW
    assert decide(s3_requests("ListObjectsV2", "b", prefix="other/")[0], policies) == IMPLICIT_DENY
    assert decide(s3_requests("ListObjectsV2", "b")[0], policies) == IMPLICIT_DENY  # no prefix: key absent


def test_eval_explicit_deny_wins_and_nothing_allowed_is_an_implicit_deny():
    allow = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/runs/*"}
    put = Request("s3:PutObject", "arn:aws:s3:::b/runs/x")
    assert decide(put, _policy(allow), _policy(deny), "arn:aws:iam::1:role/r") == DENY
    assert decide(put, _policy(allow)) == ALLOW
    assert decide(put, []) == IMPLICIT_DENY
    assert decide(Request("s3:GetObject", "arn:aws:s3:::b/runs/x"), _policy(allow), _policy(deny), "x") == ALLOW


def test_eval_actions_are_case_insensitive_wildcards_and_not_action_inverts():
    get_star = _policy({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"})
    assert decide(Request("s3:getobject", "arn:aws:s3:::b/k"), get_star) == ALLOW
    assert decide(Request("s3:GetObjectVersion", "arn:aws:s3:::b/k"), get_star) == ALLOW
    assert decide(Request("s3:PutObject", "arn:aws:s3:::b/k"), get_star) == IMPLICIT_DENY
    assert decide(Request("ec2:GetConsoleOutput", "*"), get_star) == IMPLICIT_DENY
    not_s3 = _policy({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})
    assert decide(Request("ec2:RunInstances", "*"), not_s3) == ALLOW
    assert decide(Request("s3:GetObject", "arn:aws:s3:::b/k"), not_s3) == IMPLICIT_DENY
    question = _policy({"Effect": "Allow", "Action": "s3:?etObject", "Resource": "*"})
    assert decide(Request("s3:PutObject", "x"), question) == IMPLICIT_DENY
    assert decide(Request("s3:GetObject", "x"), question) == ALLOW


def test_eval_resources_are_case_sensitive_wildcards_across_slashes_and_not_resource_inverts():
    under = _policy({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/files/md5/??/*"})
    assert decide(Request("s3:PutObject", "arn:aws:s3:::b/files/md5/ab/c/d"), under) == ALLOW
    assert decide(Request("s3:PutObject", "arn:aws:s3:::b/files/md5/a/c"), under) == IMPLICIT_DENY
    assert decide(Request("s3:PutObject", "arn:aws:s3:::b/files/md5/ab"), under) == IMPLICIT_DENY
    assert decide(Request("s3:PutObject", "arn:aws:s3:::b/Files/md5/ab/c"), under) == IMPLICIT_DENY
    literal = _policy({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/[ab].txt"})
    assert decide(Request("s3:PutObject", "arn:aws:s3:::b/a.txt"), literal) == IMPLICIT_DENY  # no [..] classes
    assert decide(Request("s3:PutObject", "arn:aws:s3:::b/[ab].txt"), literal) == ALLOW
    deny_outside = {
        "Effect": "Deny",
        "Principal": {"AWS": "arn:aws:iam::1:role/pr"},
        "Action": "s3:PutObject",
        "NotResource": "arn:aws:s3:::b/pull-requests/*",
    }
    allow = _policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    assert (
        decide(Request("s3:PutObject", "arn:aws:s3:::b/x"), allow, _policy(deny_outside), "arn:aws:iam::1:role/pr")
        == DENY
    )
    inside = Request("s3:PutObject", "arn:aws:s3:::b/pull-requests/x")
    assert decide(inside, allow, _policy(deny_outside), "arn:aws:iam::1:role/pr") == ALLOW
    # The statement names one principal: another role is not denied by it.
    assert (
        decide(Request("s3:PutObject", "arn:aws:s3:::b/x"), allow, _policy(deny_outside), "arn:aws:iam::1:role/o")
        == ALLOW
    )


def test_eval_conditions_missing_keys_negation_if_exists_bool_null_and_case():
    def holds(condition: dict, context: dict) -> bool:
        statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": condition}
        return decide(Request("s3:GetObject", "x", context), _policy(statement)) == ALLOW

    assert holds({"StringEquals": {"k:a": "v"}}, {"k:a": "v"})
    assert not holds({"StringEquals": {"k:a": "v"}}, {"k:a": "V"})  # values are case-sensitive
    assert holds({"StringEquals": {"K:A": "v"}}, {"k:a": "v"})  # keys are not
    assert not holds({"StringEquals": {"k:a": "v"}}, {})  # a missing key fails a positive operator
    assert holds({"StringNotEquals": {"k:a": "v"}}, {})  # and satisfies a negated one
    assert not holds({"StringNotLike": {"k:a": "v*"}}, {"k:a": "value"})
    assert holds({"StringEqualsIfExists": {"k:a": "v"}}, {})
    assert not holds({"StringEqualsIfExists": {"k:a": "v"}}, {"k:a": "w"})
    assert holds({"StringEquals": {"k:a": ["w", "v"]}}, {"k:a": "v"})  # values: any
    assert not holds({"StringEquals": {"k:a": "v", "k:b": "w"}}, {"k:a": "v"})  # keys: all
    assert not holds({"StringEquals": {"k:a": "v"}, "StringLike": {"k:b": "w*"}}, {"k:a": "v", "k:b": "x"})
    assert holds({"Bool": {"aws:SecureTransport": "true"}}, {})  # decide() sets it: requests go over TLS
    assert not holds({"Bool": {"aws:SecureTransport": False}}, {})
    assert holds({"Null": {"k:a": "true"}}, {}) and not holds({"Null": {"k:a": "true"}}, {"k:a": "v"})
    for unknown in ({"ArnLike": {"k:a": "v"}}, {"ForAnyValue:StringLike": {"k:a": "v"}}, {"NullIfExists": {"k": "x"}}):
        with pytest.raises(iam_eval.UnsupportedPolicy):
            holds(unknown, {"k:a": "v"})
    with pytest.raises(iam_eval.UnsupportedPolicy):
        holds({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}, {"s3:prefix": "home/x/"})


def test_eval_principal_arn_is_the_callers_and_s3_requests_follow_aws_mapping():
    statement = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalArn": "arn:aws:iam::1:role/release"}},
    }
    allow = _policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    put = Request("s3:PutObject", "arn:aws:s3:::b/k")
    assert decide(put, allow, _policy(statement), "arn:aws:iam::1:role/release") == ALLOW
    assert decide(put, allow, _policy(statement), "arn:aws:iam::1:role/ingest") == DENY
    copy = s3_requests("CopyObject", "b", "to", source=("b", "from", "v1"))
    assert [(r.action, r.resource) for r in copy] == [
        ("s3:GetObjectVersion", "arn:aws:s3:::b/from"),
        ("s3:PutObject", "arn:aws:s3:::b/to"),
    ]
    assert [r.action for r in s3_requests("HeadObject", "b", "k")] == ["s3:GetObject"]
    assert s3_requests("HeadBucket", "b")[0].context == {}
    with pytest.raises(ValueError, match="not mapped"):
        s3_requests("PutBucketPolicy", "b", "k")
