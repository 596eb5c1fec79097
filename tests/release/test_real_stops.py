"""Issue 23's stops, each on a released copy of the digits project (tests/helpers/templates.py): what a new user hit
on a real DVC project, and what the engine does instead."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import socket
import threading
from collections.abc import Iterator

import pytest
import yaml

from tests.helpers import Project
from tests.helpers.harness import assert_failed, retrain

pytestmark = pytest.mark.slow

METRICS = "metrics/metrics.json"


def test_an_ignored_file_to_commit_is_one_line_naming_the_rule_and_nothing_is_tagged(released: Project) -> None:
    """Stop 4: DVC wrote a rule into .gitignore that covers a `cache: false` metrics file the commit must add."""
    released.git("rm", "--quiet", "--cached", METRICS)
    with (released.root / ".gitignore").open("a") as ignore:
        ignore.write("/metrics/metrics.json\n")
    released.git("commit", "--quiet", "-am", "metrics: ignored, as a stale DVC rule leaves it")
    released.set_param("train", "C", 0.5)
    tags = released.tags()
    failed = retrain(released, "run")
    rule = f".gitignore:{len((released.root / '.gitignore').read_text().splitlines())}"
    assert_failed(failed, 2, METRICS, rule, "/metrics/metrics.json")
    assert released.tags() == tags

    lines = (released.root / ".gitignore").read_text().splitlines()
    (released.root / ".gitignore").write_text("\n".join(lines[:-1]) + "\n")  # the fix the line asks for
    released.git("commit", "--quiet", "-am", "metrics: tracked again")
    fixed = retrain(released, "run")
    assert fixed.returncode == 0, fixed.describe()
    assert released.git("ls-files", METRICS) == METRICS


def test_the_lock_file_is_in_the_lineage_when_no_stage_depends_on_it(released: Project) -> None:
    """Stop 7: the tag said `environment: not recorded` when requirements.lock was not a stage dependency."""
    dvc_yaml = released.root / "dvc.yaml"
    document = yaml.safe_load(dvc_yaml.read_text())
    for stage in document["stages"].values():
        stage["deps"].remove("requirements.lock")
    dvc_yaml.write_text(yaml.safe_dump(document, sort_keys=False))
    released.git("commit", "--quiet", "-am", "stages: no dependency on the lock file")
    made = retrain(released, "run", "--force")  # DVC keeps a removed dep in dvc.lock until the stage runs again
    assert made.returncode == 0 and made.last_stdout.startswith("released "), made.describe()
    assert "requirements.lock" not in (released.root / "dvc.lock").read_text()
    tag = made.last_stdout.split()[-1]
    md5 = hashlib.md5((released.root / "requirements.lock").read_bytes(), usedforsecurity=False).hexdigest()
    assert f"\nenvironment: requirements.lock {md5}\n" in released.git("tag", "-l", "--format=%(contents)", tag)


def test_a_nested_metric_is_named_with_dots_in_the_settings_gate_lineage_and_releases(released: Project) -> None:
    """Stop 2: a nested key of the metrics file (`per_class_f1` holds one number per digit, as dvclive nests
    `avg_prec.test`) could not be named, and the error listed no nested name."""
    released.set_param("release", "primary_metric", "per_class_f1")
    released.set_param("train", "C", 0.5)
    refused = retrain(released, "run")
    assert_failed(refused, 2, "release.primary_metric `per_class_f1`", "per_class_f1.3", "accuracy")
    released.set_param("release", "primary_metric", "per_class_f1.3")
    made = retrain(released, "run")
    assert made.returncode == 0 and made.last_stdout.startswith("released "), made.describe()
    assert "per_class_f1.3" in made.stderr  # the gate's verdict names it
    tag = made.last_stdout.split()[-1]
    assert "\n  per_class_f1.3: " in released.git("tag", "-l", "--format=%(contents)", tag)
    assert released.retrain("releases").stdout.splitlines()[0].split()[3] == "per_class_f1.3"


def test_a_plot_the_report_cannot_draw_is_one_note_and_the_tagged_release_exits_0(released: Project) -> None:
    """Stop 3: after the tag, the report drew a `template: confusion` plot whose columns the file lacks (as a dvclive
    JSON plot read as CSV) and the run exited 1 with a tag made. Now the part is one note; the run exits 0."""
    spec = yaml.safe_load((released.root / "dvc.yaml").read_text())
    confusion = next(plot for plot in spec["plots"] if "Confusion matrix" in plot)["Confusion matrix"]
    confusion["x"] = "no_such_column"
    (released.root / "dvc.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    released.git("commit", "--quiet", "-am", "plots: a confusion plot over columns the file lacks")
    released.set_param("train", "C", 0.5)
    result = retrain(released, "run")
    assert result.returncode == 0, result.describe()
    assert result.stdout.strip().splitlines()[-1] == "released model@v1.0.1"
    report = (released.root / "reports/report.md").read_text()
    assert "Not shown: the plots could not be drawn (KeyError" in report and "retrain-error.log" in report
    assert "### Metrics" in report, "the parts that could be drawn are there"
    assert "Traceback" in (released.root / "reports/retrain-error.log").read_text()


@pytest.fixture
def static_http(released: Project) -> Iterator[str]:
    """The project's DVC remote served read-only over HTTP, as a plain static file server serves it (real sockets,
    Python's http.server: GET and HEAD, no upload)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(released.storage))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when this returns: nothing listens there


def test_an_http_remote_is_probed_and_a_read_only_one_gets_advice_that_fits(
    released: Project, static_http: str
) -> None:
    """Stop 6: an HTTPS remote was called reachable unchecked, and its objects "missing" when its host did not
    resolve. Now an HTTP(S) remote that does not answer is unreachable, said once, before anything runs; one that
    answers serves a restore; a push it refuses says it may be read-only and what to do."""
    # this machine's own remotes (config.local): a snapshot restored keeps them
    released.dvc("remote", "add", "--local", "dead", f"http://127.0.0.1:{closed_port()}/store")
    released.dvc("remote", "add", "--local", "web", static_http)

    dead = retrain(released, "run", "--remote", "dead")
    assert_failed(dead, 1, "DVC remote `dead` is not reachable at http://127.0.0.1:", "nothing was changed")
    assert "missing" not in dead.stderr and "[2/9]" not in dead.stderr, "refused in preflight, before any compute"

    shutil.rmtree(released.root / ".dvc" / "cache")  # everything must come from the HTTP remote
    restored = retrain(released, "restore", "model@v1.0.0", "--remote", "web")
    assert restored.returncode == 0, restored.describe()
    assert (released.root / "models/model.joblib").is_file()

    released.git("switch", "--quiet", "develop")  # back from the restored snapshot
    released.set_param("train", "C", 0.5)
    refused = retrain(released, "run", "--remote", "web")
    assert_failed(refused, 1, "dvc push to remote `web` failed", "read-only", "--remote NAME")
    assert "model@v1.0.1" not in released.tags()
