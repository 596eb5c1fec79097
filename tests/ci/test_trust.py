"""Trust boundaries, read without running the workflows: the AWS policies in docs/aws, the OIDC subject each job
that assumes a role would get, the roles' session lengths, and the S3 permissions enforced by moto's IAM.

The OIDC rules are those of ../shared/reference/ci-facts.md ("OIDC", "Environments"): `sub` is
`repo:OWNER/REPO:environment:NAME` for a job that names an environment (deployment branch rules decide whether the
job may run at all), `repo:OWNER/REPO:pull_request` for a pull_request job, `repo:OWNER/REPO:ref:REF` otherwise;
`aud` is `sts.amazonaws.com` for configure-aws-credentials.
"""

from __future__ import annotations

import configparser
import fnmatch
import json
import re

import pytest
import yaml

from tests.ci.test_static import ROOT, WORKFLOWS, load

AWS_DOCS = ROOT / "docs" / "aws"
# The roles a session assumes (roles.json also lists the contributors' IAM group, which has no trust policy).
ROLES = {name: spec for name, spec in json.loads((AWS_DOCS / "roles.json").read_text()).items() if "trust" in spec}
REPO = "acme/ml-repo"
AUDIENCE = "sts.amazonaws.com"
# Deployment branch rules of the GitHub Environments, as docs/ci.md sets them up: every environment (release,
# ingest, cloud-runner and the stages dev, staging, prod) admits develop only, and no tag.
ENVIRONMENT_REFS = {
    "release": ["refs/heads/develop"],
    "ingest": ["refs/heads/develop"],
    "cloud-runner": ["refs/heads/develop"],
    "*": ["refs/heads/develop"],
}


# The OIDC subject each job that assumes a role can carry, and the one shipped role that trusts it.
EXPECTED_ROLE = {
    ("pr.yml", "report"): {"pull_request": "retrain-pull-request"},
    ("retrain.yml", "launch-runner"): {"environment:cloud-runner": "retrain-runner-launch"},
    ("retrain.yml", "retrain"): {"environment:release": "retrain-release"},
    # release mode runs as a release (release role); a plain ingest with the ingest role (batch objects only)
    ("ingest.yml", "ingest"): {"environment:ingest": "retrain-ingest", "environment:release": "retrain-release"},
    ("promote.yml", "promote"): {
        f"environment:{stage}": f"retrain-stage-{stage}" for stage in ("dev", "staging", "prod")
    },
}
# The longest job each role serves, in seconds (timeout-minutes * 60): its MaxSessionDuration must cover it.
REQUIRED_MAX_SESSION = {"retrain-release": 10800, "retrain-ingest": 7200, "retrain-runner-launch": 1200}


def policy(name: str, placeholders: dict | None = None) -> dict:
    text = (AWS_DOCS / name).read_text()
    for key, value in (placeholders or {}).items():
        text = text.replace(key, value)
    return json.loads(text)


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def conditions_hold(conditions: dict, claims: dict) -> bool:
    """IAM's StringEquals / StringLike: every key must match one of its values (the operators this repository uses)."""
    for operator, tests in conditions.items():
        for key, wanted in tests.items():
            value = claims.get(key)
            wanted = [item.replace("OWNER/REPO", REPO) for item in as_list(wanted)]  # the files' placeholders
            if value is None:
                return False
            if operator == "StringEquals" and value not in as_list(wanted):
                return False
            if operator == "StringLike" and not any(fnmatch.fnmatchcase(value, pattern) for pattern in as_list(wanted)):
                return False
            if operator not in ("StringEquals", "StringLike"):
                raise AssertionError(f"condition operator {operator} is not modelled here")
    return True


def trusts(role: str, sub: str) -> bool:
    claims = {"token.actions.githubusercontent.com:sub": sub, "token.actions.githubusercontent.com:aud": AUDIENCE}
    for statement in policy(ROLES[role]["trust"], ROLES[role].get("placeholders"))["Statement"]:
        if statement["Effect"] != "Allow" or statement["Action"] != "sts:AssumeRoleWithWebIdentity":
            continue
        federated = statement["Principal"]["Federated"]
        assert federated.endswith(":oidc-provider/token.actions.githubusercontent.com"), federated
        if conditions_hold(statement.get("Condition", {}), claims):
            return True
    return False


def gto_stages() -> list[str]:
    return yaml.safe_load((ROOT / ".gto").read_text())["stages"]


def refs_of(on: dict) -> list[str]:
    """The refs a job of these triggers can run on: pushed branches and tags, any branch for a dispatch, the default
    branch for a schedule."""
    refs = []
    for event, spec in on.items():
        spec = spec or {}
        if event == "push":
            refs += [f"refs/heads/{branch}" for branch in spec.get("branches", [])]
            refs += [f"refs/tags/{tag.replace('*#*', 'model#prod#3')}" for tag in spec.get("tags", [])]
        elif event == "workflow_dispatch":
            refs += ["refs/heads/develop", "refs/heads/feature-x"]  # "Use workflow from": any branch
        elif event == "schedule":
            refs.append("refs/heads/develop")
    return refs


def subjects(workflow: dict, job: dict) -> list[str]:
    """Every `sub` the job's OIDC token can carry; a job that names an environment its ref may not deploy to never
    runs (GitHub refuses it), so it gets none."""
    environment = job.get("environment")
    name = environment.get("name") if isinstance(environment, dict) else environment
    found = []
    if "pull_request" in workflow["on"]:
        found += ["pull_request"] if name is None else []  # refs/pull/N/merge is admitted by no environment here
    for ref in refs_of(workflow["on"]):
        if name is None:
            found.append(f"ref:{ref}")
            continue
        for environment_name in environment_names(name):
            allowed = ENVIRONMENT_REFS.get(environment_name, ENVIRONMENT_REFS["*"])
            if any(fnmatch.fnmatchcase(ref, pattern) for pattern in allowed):
                found.append(f"environment:{environment_name}")
    return sorted({f"repo:{REPO}:{sub}" for sub in found})


def environment_names(name: str) -> list[str]:
    """The environments an `environment:` can name: the stages for promote.yml's input, the quoted names of an
    expression like ingest.yml's `(release mode) && 'release' || 'ingest'`, else the name itself."""
    if "${{" not in name:
        return [name]
    if "inputs.stage" in name:
        return gto_stages()
    return [literal for literal in re.findall(r"'([\w-]+)'", name) if literal != "true"]


def role_jobs():
    for path in WORKFLOWS:
        workflow = load(path)
        for job_id, job in workflow["jobs"].items():
            aws = [s for s in job.get("steps", []) if "configure-aws-credentials" in s.get("uses", "")]
            if any("role-to-assume" in s.get("with", {}) for s in aws):
                yield path.name, job_id, workflow, job, aws


def test_every_shipped_policy_is_an_iam_document_naming_the_remotes_of_dvc_config():
    config = configparser.ConfigParser()
    config.read(ROOT / ".dvc" / "config")
    urls = {name.strip("'"): config[name].get("url", "") for name in config.sections()}
    release = urls['remote "s3remote"'].removeprefix("s3://")
    pull_requests = urls['remote "s3remote-pr"'].removeprefix("s3://")
    assert release.split("/")[0] == pull_requests.split("/")[0], "one bucket, two prefixes"
    assert not pull_requests.startswith(release + "/") and not release.startswith(pull_requests + "/")
    for role in ROLES.values():
        for name in [role["trust"], *role["permissions"]]:
            assert policy(name)["Version"] == "2012-10-17", name
    pr = policy("pr-role-permissions.json")["Statement"]
    writes = [s for s in pr if {"s3:PutObject"} & set(as_list(s["Action"]))]
    assert [as_list(s["Resource"]) for s in writes] == [[f"arn:aws:s3:::{pull_requests}/*"]], (
        "PR role writes only there"
    )
    assert not any("Delete" in action for s in pr for action in as_list(s["Action"]))
    release_writes = [
        r
        for s in policy("release-role-permissions.json")["Statement"]
        if "s3:PutObject" in as_list(s["Action"])
        for r in as_list(s["Resource"])
    ]
    assert release_writes == [f"arn:aws:s3:::{release}/*"]
    tls = next(s for s in policy("bucket-policy.json")["Statement"] if s["Sid"] == "DenyRequestsWithoutTLS")
    assert tls["Effect"] == "Deny" and tls["Principal"] == "*" and tls["Action"] == "s3:*"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    bucket = release.split("/")[0]
    assert sorted(as_list(tls["Resource"])) == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


@pytest.mark.parametrize("where", sorted(EXPECTED_ROLE), ids=lambda key: f"{key[0]}:{key[1]}")
def test_each_job_that_assumes_a_role_is_trusted_by_its_role_only(where):
    jobs = {(name, job_id): (workflow, job) for name, job_id, workflow, job, _ in role_jobs()}
    assert set(jobs) == set(EXPECTED_ROLE), "a job assumes a role that this test does not know"
    workflow, job = jobs[where]
    subs = subjects(workflow, job)
    assert subs == sorted(f"repo:{REPO}:{sub}" for sub in EXPECTED_ROLE[where]), (where, subs)
    for sub, role in EXPECTED_ROLE[where].items():
        trusted = {name for name in ROLES if trusts(name, f"repo:{REPO}:{sub}")}
        assert trusted == {role}, (where, sub, trusted)


def test_the_pull_request_subject_cannot_assume_the_release_role_and_a_feature_branch_never_gets_one():
    assert trusts("retrain-pull-request", f"repo:{REPO}:pull_request")
    assert not trusts("retrain-release", f"repo:{REPO}:pull_request")
    for sub in ("ref:refs/heads/develop", "ref:refs/heads/feature-x", "environment:prod", "environment:ingest"):
        assert not trusts("retrain-release", f"repo:{REPO}:{sub}"), sub
    assert not trusts("retrain-release", "repo:someone/fork:environment:release")
    # A manual run of retrain.yml from a feature branch: the release environment refuses it, so no token at all.
    retrain = load(ROOT / ".github/workflows/retrain.yml")
    dispatch_only = {**retrain, "on": {"workflow_dispatch": {}}}
    for job_id, environment in (("retrain", "release"), ("launch-runner", "cloud-runner")):
        assert retrain["jobs"][job_id]["environment"] == environment
        assert subjects(dispatch_only, retrain["jobs"][job_id]) == [f"repo:{REPO}:environment:{environment}"]
    assert trusts("retrain-release", f"repo:{REPO}:environment:release")
    assert not trusts("retrain-release", f"repo:{REPO}:environment:cloud-runner"), "the launch job never gets it"


def test_role_sessions_last_as_long_as_their_jobs_may_run():
    """Every role session covers its job's timeout (configure-aws-credentials asks one hour unless told), and no
    more than the role allows: REQUIRED_MAX_SESSION is what the roles' MaxSessionDuration must be at least."""
    needed: dict[str, int] = {}
    for name, job_id, _, job, aws in role_jobs():
        roles = set(EXPECTED_ROLE[(name, job_id)].values())
        for step in aws:
            if "role-to-assume" not in step["with"]:
                continue
            seconds = int(step["with"].get("role-duration-seconds", 3600))  # the action's default: one hour
            assert seconds >= job["timeout-minutes"] * 60, (name, job_id, step["name"], seconds)
            assert seconds <= 12 * 3600, "AWS's ceiling"
            for role in roles:
                needed[role] = max(needed.get(role, 0), seconds)
    stages = {f"retrain-stage-{stage}": 3600 for stage in ("dev", "staging", "prod")}
    assert needed == {"retrain-pull-request": 3600, **stages, **REQUIRED_MAX_SESSION}
    for role, seconds in needed.items():
        assert seconds <= ROLES[role]["MaxSessionDuration"] <= 12 * 3600, role


def test_pull_request_builds_upload_apart_from_the_release_remote():
    pr = load(ROOT / ".github/workflows/pr.yml")["jobs"]["report"]
    assert pr["env"]["RETRAIN_REMOTE"] == "s3remote" and pr["env"]["RETRAIN_PUSH_TO"] == "s3remote-pr"
    command = next(step["run"] for step in pr["steps"] if "retrain report" in step.get("run", ""))
    assert '--push-to "$RETRAIN_PUSH_TO"' in command
    travis = yaml.safe_load((ROOT / ".travis.yml").read_text())
    scripts = [line for job in travis["jobs"]["include"] for line in job.get("script", [])]
    assert any("retrain report" in line and "--push-to s3remote-pr" in line for line in scripts)
    retrain = load(ROOT / ".github/workflows/retrain.yml")["jobs"]["retrain"]
    run = next(step["run"] for step in retrain["steps"] if step.get("id") == "run")
    assert 'if [ "$TRUST_PR_RUNS" = "true" ]' in run, "reusing pull requests' runs is an explicit opt-in"
    assert retrain["env"]["TRUST_PR_RUNS"] == "${{ vars.RETRAIN_TRUST_PR_RUNS }}"


def test_setup_cml_runs_before_any_aws_credentials():
    for path in WORKFLOWS:
        for _, job in load(path)["jobs"].items():
            uses = [step.get("uses", "") for step in job.get("steps", [])]
            cml = [i for i, name in enumerate(uses) if name.startswith("iterative/setup-cml@")]
            aws = [i for i, name in enumerate(uses) if name.startswith("aws-actions/configure-aws-credentials@")]
            if cml and aws:
                assert max(cml) < min(aws), path.name


def test_the_bucket_settings_file_is_what_bootstrap_s3_sets(s3):
    settings = policy("bucket-settings.json")
    client, bucket = s3.client, "dvc-exemplar"
    assert client.get_bucket_versioning(Bucket=bucket)["Status"] == settings["Versioning"]["Status"]
    block = client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == settings["PublicAccessBlock"]
    rules = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rules == settings["Lifecycle"]["Rules"]


@pytest.mark.parametrize(
    ("role", "allowed", "denied"),
    [
        (
            "retrain-pull-request",
            [("put_object", "pull-requests/runs/x"), ("get_object", "artifact-versioning/files/md5/ab/c")],
            [("put_object", "artifact-versioning/runs/x"), ("delete_object", "pull-requests/runs/x")],
        ),
        (
            "retrain-release",
            [("put_object", "artifact-versioning/runs/x"), ("get_object", "pull-requests/runs/x")],
            [("put_object", "pull-requests/runs/y"), ("delete_object", "artifact-versioning/files/md5/ab/c")],
        ),
    ],
)
def test_moto_enforces_each_roles_s3_permissions(role, allowed, denied):
    """moto's IAM enforcement (in-process, after a few unauthenticated set-up calls): a user holding the role's
    permission policies. moto does not evaluate the trust policy or the bucket policy's TLS condition (the tests
    above read those)."""
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws
    from moto.core import set_initial_no_auth_action_count

    admin = {"region_name": "us-east-1", "aws_access_key_id": "admin", "aws_secret_access_key": "admin"}
    setup_calls = 5 + len(ROLES[role]["permissions"])

    @set_initial_no_auth_action_count(setup_calls)
    @mock_aws
    def check() -> None:
        s3, iam = boto3.client("s3", **admin), boto3.client("iam", **admin)
        s3.create_bucket(Bucket="dvc-exemplar")
        s3.put_object(Bucket="dvc-exemplar", Key="artifact-versioning/files/md5/ab/c", Body=b"release")
        s3.put_object(Bucket="dvc-exemplar", Key="pull-requests/runs/x", Body=b"pr")
        iam.create_user(UserName=role)
        for name in ROLES[role]["permissions"]:
            iam.put_user_policy(UserName=role, PolicyName=name, PolicyDocument=(AWS_DOCS / name).read_text())
        key = iam.create_access_key(UserName=role)["AccessKey"]
        client = boto3.client(
            "s3",
            region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        for operation, object_key in allowed:
            extra = {"Body": b"1"} if operation == "put_object" else {}
            getattr(client, operation)(Bucket="dvc-exemplar", Key=object_key, **extra)
        for operation, object_key in denied:
            extra = {"Body": b"1"} if operation == "put_object" else {}
            with pytest.raises(ClientError) as refused:
                getattr(client, operation)(Bucket="dvc-exemplar", Key=object_key, **extra)
            assert refused.value.response["Error"]["Code"] == "AccessDenied", (operation, object_key)

    check()


def test_docs_aws_readme_names_every_policy_file_and_only_files_that_exist():
    text = (AWS_DOCS / "README.md").read_text()
    shipped = {path.name for path in AWS_DOCS.glob("*.json")}
    named = set(re.findall(r"`([a-z-]+\.json)`", text))
    assert shipped - {"iam-policy.schema.json"} <= named, shipped - named
    assert named <= shipped, named - shipped


def test_docs_ci_names_only_policy_files_that_exist():
    text = (ROOT / "docs" / "ci.md").read_text()
    files = {path.name for path in AWS_DOCS.glob("*.json")}
    named = {name for name in re.findall(r"`([a-z-]+\.json)`", text) if "role" in name or "bucket" in name}
    assert named <= files, named - files
    assert "aws/README.md" in text, "docs/ci.md links the roles' table"


def test_the_cloud_runner_is_launched_with_an_ec2_only_role_of_its_own_environment():
    """The launch job runs in the environment `cloud-runner` (develop only) with its own OIDC role, which the release
    role does not trust; its EC2 permissions reach neither S3 nor IAM (bar passing the instance's own role), and no
    other role holds an EC2 action."""
    launch = load(ROOT / ".github" / "workflows" / "retrain.yml")["jobs"]["launch-runner"]
    assert launch["environment"] == "cloud-runner"
    roles = [s["with"]["role-to-assume"] for s in launch["steps"] if "role-to-assume" in (s.get("with") or {})]
    assert roles == ["${{ vars.RUNNER_LAUNCH_ROLE_ARN }}"]
    assert not trusts("retrain-release", f"repo:{REPO}:environment:cloud-runner")
    assert not trusts("retrain-pull-request", f"repo:{REPO}:environment:cloud-runner")
    assert ROLES["retrain-runner-launch"]["permissions"] == ["runner-launch-role-permissions.json"]
    statements = policy("runner-launch-role-permissions.json")["Statement"]
    actions = {action for statement in statements for action in as_list(statement["Action"])}
    assert {"ec2:RunInstances", "ec2:TerminateInstances", "ec2:CreateTags"} <= actions
    assert all(action.startswith("ec2:") or action == "iam:PassRole" for action in actions), actions
    for statement in statements:
        if "iam:PassRole" in as_list(statement["Action"]):
            assert "*" not in as_list(statement["Resource"]), "PassRole only for the instance profile's role"
    for role in ROLES.keys() - {"retrain-runner-launch"}:
        for name in ROLES[role]["permissions"]:
            assert not any(a.startswith("ec2:") for s in policy(name)["Statement"] for a in as_list(s["Action"])), name
