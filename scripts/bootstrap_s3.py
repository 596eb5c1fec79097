"""Create the DVC bucket if missing: versioning on, public access blocked, stale multipart uploads aborted.

    python scripts/bootstrap_s3.py dvc-exemplar [--endpoint-url http://127.0.0.1:5000] [--region eu-west-1]

Idempotent: running it again changes nothing.
"""

from __future__ import annotations

import argparse

ABORT_AFTER_DAYS = 1


def bootstrap_bucket(bucket: str, endpoint_url: str | None = None, region: str | None = None) -> list[str]:
    """Make the bucket ready for DVC; return what was changed (empty when it already was)."""
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
    changed = []
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
            raise
        kwargs = {}
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        client.create_bucket(Bucket=bucket, **kwargs)
        changed.append("created")
    if client.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        changed.append("versioning enabled")
    block = {key: True for key in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}
    try:
        current = client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError:
        current = {}
    if current != block:
        client.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=block)
        changed.append("public access blocked")
    rule = {
        "ID": "abort-incomplete-multipart-uploads",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_AFTER_DAYS},
    }
    try:
        rules = client.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
    except ClientError:
        rules = []
    if not any(existing.get("ID") == rule["ID"] for existing in rules):
        client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [*rules, rule]})
        changed.append("lifecycle rule added")
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bucket")
    parser.add_argument("--endpoint-url", help="an S3-compatible endpoint (default: AWS)")
    parser.add_argument("--region")
    args = parser.parse_args()
    changed = bootstrap_bucket(args.bucket, args.endpoint_url, args.region)
    print(f"bucket {args.bucket}: {', '.join(changed) if changed else 'already set up, nothing changed'}")


if __name__ == "__main__":
    main()
