"""The transfer baseline: a plain boto3 upload or download of given files, one after the other.

    python benchmarks/s3_plain.py upload   ENDPOINT BUCKET MANIFEST
    python benchmarks/s3_plain.py download ENDPOINT BUCKET MANIFEST

MANIFEST is a JSON list of [key, local path]. boto3's managed transfer (upload_file / download_file, its
default TransferConfig: multipart with threads above 8 MB) is what "a plain boto3 upload" means here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import boto3


def main() -> None:
    action, endpoint, bucket, manifest = sys.argv[1:5]
    client = boto3.client("s3", endpoint_url=endpoint)
    pairs = json.loads(Path(manifest).read_text())
    moved = 0
    for key, local in pairs:
        if action == "upload":
            client.upload_file(local, bucket, key)
        else:
            Path(local).parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, key, local)
        moved += Path(local).stat().st_size
    print(json.dumps({"files": len(pairs), "bytes": moved}))


if __name__ == "__main__":
    main()
