"""Hostile keys in a landing: a key is data, never a path, markup or an instruction.

A key that is a path (traversal, absolute) or holds hidden characters is refused with one line naming it,
quarantined under `rejected/unsafe/<sha256 of the key>` and recorded as seen; nothing is written outside the
scratch folder or rejected/; a good delivery of the same run is ingested. A key holding markdown, a mention or a
skip instruction is ingested as data: escaped in reports/ingest.md, and no instruction in the commit message.
Real git, real DVC, moto's S3 server, the `retrain ingest` command.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from retrain import decisions
from retrain.ingest import keys
from retrain.ingest.landing import REASON_SUFFIX, reason_document, within
from retrain.ingest.landing import S3Landing as EngineS3Landing
from retrain.untrusted import has_skip_instruction
from tests.helpers import S3_BUCKET, Project
from tests.helpers.landing import FolderLanding, S3Landing, batches_on, delivery, ingest, report

pytestmark = pytest.mark.slow  # runs the engine against real git and DVC

S3_BRANCH = "ingest/dvc-exemplar-landing"
MARKUP_KEY = (
    "2025-03-05 @octocat [skip ci] **bold** <img src=x onerror=alert(1)> [link](javascript:alert(2)) "
    "www.evil.example `tick` #1 Retrain-Commit: release skip-checks: true.csv"
)


def unsafe_name(key: str) -> str:
    return f"unsafe/{hashlib.sha256(key.encode()).hexdigest()}"


def assert_quarantined(landing: S3Landing | FolderLanding, key: str, content: bytes) -> None:
    """The copy under the key's hash, and a reason file recording the key verbatim (as YAML data)."""
    rejected = landing.rejected_files()
    assert rejected[unsafe_name(key)] == content
    reason = yaml.safe_load(rejected[unsafe_name(key) + REASON_SUFFIX])
    assert reason["key"] == key and "unsafe key" in reason["reason"]


@pytest.mark.s3
def test_a_traversal_key_is_refused_quarantined_and_never_written_over_the_validator(s3_project: Project, s3_landing):
    landing: S3Landing = s3_landing
    validator = s3_project.root / "src/pipeline/validate.py"
    original = validator.read_bytes()
    forged = b"import sys\nprint('every delivery is valid')\nsys.exit(0)\n"
    traversal = landing.put("../../../src/pipeline/validate.py", forged)
    good = delivery(30, seed=1)
    landing.put("2025-03-01.csv", good)

    run = ingest(s3_project, landing.source)

    assert run.returncode == 0, run.describe()
    assert validator.read_bytes() == original and s3_project.git("status", "--porcelain") == ""
    assert run.lines[-1] == "ingest: 1 ingested, 1 rejected"
    assert f"{landing.source}../../../src/pipeline/validate.py: rejected: unsafe key: it has a `.` or `..` segment" in (
        run.stdout
    )
    assert_quarantined(landing, traversal, forged)
    assert traversal in landing.s3.keys("landing/"), "the original stays in the landing"
    records = [spec["meta"]["ingest"] for spec in batches_on(s3_project, S3_BRANCH).values() if "meta" in spec]
    assert [record["key"] for record in records] == ["landing/2025-03-01.csv"]
    assert records[0]["listed_through"] == "landing/2025-03-01.csv", "a refused key is no listing marker"

    again = ingest(s3_project, landing.source, "--rescan")
    assert again.returncode == 0, again.describe()
    assert again.lines[-1] == "ingest: nothing new, 1 already ingested, 1 already rejected", "recorded as seen"


@pytest.mark.s3
def test_absolute_keys_are_refused_and_nothing_is_written_where_they_point(
    s3_project: Project, s3_landing, tmp_path: Path
):
    landing: S3Landing = s3_landing
    outside = tmp_path / "outside" / "x.csv"
    runner_tmp = Path("/tmp/x.csv")
    before = runner_tmp.read_bytes() if runner_tmp.exists() else None
    content = delivery(20, seed=2)
    absolute = [landing.put("/tmp/x.csv", content), landing.put(str(outside), content)]

    run = ingest(s3_project, landing.source)

    assert run.returncode == 2, run.describe()
    assert (runner_tmp.read_bytes() if runner_tmp.exists() else None) == before
    assert not outside.parent.exists()
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("error: every new delivery was refused") and "Traceback" not in run.stderr
    assert f"{landing.source}/tmp/x.csv: rejected: unsafe key: it starts with `/` (an absolute path)" in run.stdout
    for key in absolute:
        assert_quarantined(landing, key, content)
    assert s3_project.git("branch", "--list", S3_BRANCH) == ""


@pytest.mark.s3
def test_markup_and_skip_instructions_in_a_key_are_data_in_the_report_and_the_commit(s3_project: Project, s3_landing):
    landing: S3Landing = s3_landing
    key = landing.put(MARKUP_KEY, delivery(30, seed=3))
    landing.put("2025-03-06 @octocat [skip ci].csv", delivery(30, seed=4, bad_label_at=3))

    run = ingest(s3_project, landing.source)

    assert run.returncode == 0, run.describe()
    assert run.lines[-1] == "ingest: 1 ingested, 1 rejected"
    assert report(s3_project)["deliveries"][0]["key"] == key, "kept verbatim as data"
    message = s3_project.git("log", "-1", "--format=%B", S3_BRANCH)
    assert not has_skip_instruction(message) and not decisions.has_commit_mark(message)
    assert "retrain-commit:" not in message.lower() and "skip-checks:" not in message.lower()
    assert "@octocat (skip ci) **bold**" in message, "the key is still readable in the commit"

    html = MarkdownIt("commonmark").enable("table").render((s3_project.root / "reports/ingest.md").read_text())
    outside_code = re.sub(r"<code>.*?</code>", "", html)
    assert not re.search(r"<(img|a|em)\b", html) and "<strong>bold</strong>" not in html
    assert "@octocat" not in outside_code and "[skip ci]" not in outside_code
    assert "<code>s3://dvc-exemplar/landing/2025-03-05 @octocat [skip ci] **bold** &lt;img" in html


def test_a_folder_delivery_named_with_a_newline_or_backslash_is_quarantined_under_its_hash(
    project: Project, folder_landing: FolderLanding
):
    forged = "2025-03-02.csv\nforged: line"
    folder_landing.put(forged, delivery(20, seed=5))
    folder_landing.put("2025-03-03\\..\\x.csv", delivery(20, seed=6))
    folder_landing.put("2025-03-01.csv", delivery(20, seed=7))

    run = ingest(project, folder_landing.source)

    assert run.returncode == 0, run.describe()
    assert run.lines[-1] == "ingest: 1 ingested, 2 rejected"
    shown = f"{folder_landing.path}/2025-03-02.csv\\nforged: line: rejected: unsafe key: it holds a control"
    assert any(line.startswith(shown) for line in run.lines), run.stdout
    assert_quarantined(folder_landing, forged, delivery(20, seed=5))
    assert set(folder_landing.rejected_files()) == {
        unsafe_name(name) + suffix for name in (forged, "2025-03-03\\..\\x.csv") for suffix in ("", REASON_SUFFIX)
    }


# Keys S3 can hold (UTF-8), biased towards paths and hidden characters; without a newline, which moto's server
# answers 404 to (S3 takes it; the rule refuses it: tests/code/test_ingest_keys.py and the folder test above).
S3_KEYS = st.one_of(
    st.text(alphabet=st.sampled_from(list("/.\\a_ \r\t\x01\x7f\u2028\u2029é")), min_size=1, max_size=30),
    st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00\n"), min_size=1, max_size=60),
)


@pytest.mark.s3
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=S3_KEYS)
def test_any_s3_key_is_read_into_scratch_and_quarantined_under_rejected_only(s3, tmp_path: Path, key: str) -> None:
    top = f"hypothesis-{uuid.uuid4().hex[:8]}"  # one landing per example: moto is reset per test, not per example
    landing = EngineS3Landing(f"s3://{S3_BUCKET}/{top}/landing/", {"endpointurl": s3.endpoint})
    s3.client.put_object(Bucket=S3_BUCKET, Key=landing.prefix + key, Body=b"pixel_0,label\n")
    base = tmp_path / top  # nothing but the scratch folder may appear in here
    scratch = base / "scratch"
    scratch.mkdir(parents=True)

    for listed in landing.list(None):
        dest = within(scratch, keys.scratch_name(listed.key))
        read = landing.download(listed, dest)
        assert read is not None and dest.read_bytes() == b"pixel_0,label\n"
        if landing.fault(listed.key):
            landing.quarantine(read, dest, reason_document(landing.url, read, "unsafe key", "2025-03-01T00:00:00Z"))
            found = landing.rejection(listed.key)
            assert found is not None and found.etag == read.etag, "recorded as seen"

    assert all(path.parent == scratch for path in base.rglob("*") if path.is_file())
    stored = set(s3.keys(f"{top}/"))
    assert stored <= {
        landing.prefix + key,
        *(landing.rejected_key(landing.prefix + key) + s for s in ("", REASON_SUFFIX)),
    }
    if keys.fault(key, landing.prefix + key):
        assert all(not name.startswith(landing.prefix) or name == landing.prefix + key for name in stored)
