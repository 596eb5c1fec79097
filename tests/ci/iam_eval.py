"""A small IAM policy evaluator for the subset of the policy language that docs/aws uses, conditions included.

moto's IAM enforcement ignores `Condition` blocks, and no package on PyPI evaluates a request against policies with
their conditions (cloudsplaining and parliament lint policies; iam-ape computes effective permission sets and keeps
conditions unevaluated), so the policy tests use this one. It follows AWS's documented evaluation logic for a
principal and a resource of the same account ("Policy evaluation logic", "IAM JSON policy elements"):

* an explicit Deny in any applicable policy (identity or resource) wins; else an Allow in either allows; else the
  request is implicitly denied;
* Action / NotAction: `*` and `?` wildcards, case-insensitive; Resource / NotResource: `*` and `?` wildcards,
  case-sensitive (`*` crosses `/`);
* Principal (resource policies): `"*"` or `{"AWS": ARN...}`; a role's ARN matches its sessions;
* Condition: every operator of a statement must hold and every key of an operator; a key holds when the request's
  value matches any of the listed values. Operators: StringEquals, StringNotEquals, StringLike, StringNotLike, Bool,
  Null, and their `...IfExists` forms. A key missing from the request fails a positive operator, satisfies a
  negated one (StringNot*), and satisfies any `...IfExists`. Condition keys are case-insensitive, values are not.

Anything else (another operator, policy variables `${...}`, NotPrincipal, multi-valued ForAnyValue/ForAllValues)
raises UnsupportedPolicy instead of being guessed: a policy that uses more than this evaluator knows fails its test.

`s3_requests` maps an S3 API operation to the IAM requests S3 authorizes for it ("Required permissions for Amazon S3
API operations"): HeadBucket and ListObjectsV2 are s3:ListBucket on the bucket (only a listing carries `s3:prefix`),
HeadObject and GetObject are s3:GetObject (s3:GetObjectVersion with a version), the multipart calls are
s3:PutObject, CopyObject reads its source and writes its target.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

ALLOW, DENY, IMPLICIT_DENY = "Allow", "Deny", "ImplicitDeny"
ACCOUNT = "123456789012"


class UnsupportedPolicy(Exception):
    """The policy uses an element this evaluator does not model."""


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM's wildcards: `*` any run of characters (including none and `/`), `?` exactly one; nothing else is special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (0 if case_sensitive else re.IGNORECASE)) is not None


def load(path: Path, placeholders: dict[str, str] | None = None) -> dict:
    """A docs/aws file with its placeholders filled in (ACCOUNT_ID always; STAGE, OWNER/REPO as given)."""
    text = path.read_text().replace("ACCOUNT_ID", ACCOUNT)
    for name, value in (placeholders or {}).items():
        text = text.replace(name, value)
    return json.loads(text)


_OPERATORS = {"StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "Bool", "Null"}


def _key_holds(operator: str, wanted: list[str], value: str | None) -> bool:
    if operator == "Null":
        return any((value is None) == (str(item).lower() == "true") for item in wanted)
    if value is None:
        return operator.startswith("StringNot")
    if operator == "StringEquals":
        return value in wanted
    if operator == "StringNotEquals":
        return value not in wanted
    if operator == "StringLike":
        return any(_glob(item, value) for item in wanted)
    if operator == "StringNotLike":
        return not any(_glob(item, value) for item in wanted)
    # Bool
    return value.lower() in [str(item).lower() for item in wanted]


def conditions_hold(conditions: dict, context: dict[str, str]) -> bool:
    lowered = {key.lower(): value for key, value in context.items()}
    for operator, tests in conditions.items():
        base = operator.removesuffix("IfExists")
        if base not in _OPERATORS or (operator != base and base == "Null"):
            raise UnsupportedPolicy(f"condition operator {operator}")
        for key, wanted in tests.items():
            wanted = [str(item).lower() if isinstance(item, bool) else str(item) for item in as_list(wanted)]
            if any("${" in item for item in wanted):
                raise UnsupportedPolicy(f"policy variable in {key}: {wanted}")
            value = lowered.get(key.lower())
            if value is None and operator != base:
                continue  # ...IfExists: a key the request does not carry does not stop the statement
            if not _key_holds(base, wanted, value):
                return False
    return True


def _matches(statement: dict, request: Request, principal: str | None) -> bool:
    for element in ("NotPrincipal",):
        if element in statement:
            raise UnsupportedPolicy(element)
    if "Action" in statement:
        if not any(_glob(p, request.action, case_sensitive=False) for p in as_list(statement["Action"])):
            return False
    elif any(_glob(p, request.action, case_sensitive=False) for p in as_list(statement["NotAction"])):
        return False
    for pattern in as_list(statement.get("Resource", [])) + as_list(statement.get("NotResource", [])):
        if "${" in pattern:
            raise UnsupportedPolicy(f"policy variable in {pattern}")
    if "Resource" in statement:
        if not any(_glob(p, request.resource) for p in as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement:
        if any(_glob(p, request.resource) for p in as_list(statement["NotResource"])):
            return False
    else:
        raise UnsupportedPolicy("a statement without Resource or NotResource")
    if principal is not None:  # a resource policy: the statement must name the caller
        named = statement.get("Principal")
        if named is None:
            raise UnsupportedPolicy("a resource policy statement without Principal")
        if named != "*":
            if set(named) != {"AWS"}:
                return False  # Service / Federated principals never make these requests
            if not any(arn == "*" or arn == principal for arn in as_list(named["AWS"])):
                return False
    return conditions_hold(statement.get("Condition", {}), request.context)


def decide(request: Request, identity: list[dict], resource: list[dict] = (), principal: str = "") -> str:
    """ALLOW, DENY (an explicit Deny matched) or IMPLICIT_DENY, for `principal` (its ARN: a role's ARN for its
    sessions, a user's) holding the `identity` policies, on a resource carrying the `resource` policies."""
    context = {"aws:SecureTransport": "true", "aws:PrincipalArn": principal, **request.context}
    request = Request(request.action, request.resource, context)
    matched = [(s, None) for policy in identity for s in policy["Statement"]]
    matched += [(s, principal) for policy in resource for s in policy["Statement"]]
    effects = {s["Effect"] for s, who in matched if _matches(s, request, who)}
    if DENY in effects:
        return DENY
    return ALLOW if ALLOW in effects else IMPLICIT_DENY


def s3_requests(
    operation: str,
    bucket: str,
    key: str | None = None,
    prefix: str | None = None,
    version: str | None = None,
    source: tuple[str, str, str | None] | None = None,
) -> list[Request]:
    """The IAM requests S3 authorizes for one API call (all must be allowed for the call to succeed)."""
    bucket_arn, object_arn = f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/{key}"
    if operation == "HeadBucket":
        return [Request("s3:ListBucket", bucket_arn)]
    if operation in ("ListObjectsV2", "ListObjects"):
        return [Request("s3:ListBucket", bucket_arn, {} if prefix is None else {"s3:prefix": prefix})]
    if key is None:
        raise ValueError(f"{operation} needs a key")
    if operation in ("GetObject", "HeadObject"):
        return [Request("s3:GetObjectVersion" if version else "s3:GetObject", object_arn)]
    if operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        return [Request("s3:PutObject", object_arn)]
    if operation == "AbortMultipartUpload":
        return [Request("s3:AbortMultipartUpload", object_arn)]
    if operation == "DeleteObject":
        return [Request("s3:DeleteObjectVersion" if version else "s3:DeleteObject", object_arn)]
    if operation == "CopyObject":
        if source is None:
            raise ValueError("CopyObject needs its source")
        source_bucket, source_key, source_version = source
        read = s3_requests("GetObject", source_bucket, source_key, version=source_version)
        return [*read, Request("s3:PutObject", object_arn)]
    raise ValueError(f"S3 operation {operation} is not mapped")
