"""retrain.project: what the engine knows about a project, from params.yaml's `release:` section and dvc.yaml, with
one line saying what to add where neither says it. No git, no DVC: files in a temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from retrain import project
from retrain.errors import BadInputError, ParamsError
from tests.byop import DATA, TEMPLATE
from tests.helpers import REPO_ROOT


@pytest.fixture
def byop(tmp_path: Path) -> Path:
    """The second pipeline's files, its data file tracked by a .dvc file (content not needed here)."""
    root = tmp_path / "byop"
    shutil.copytree(TEMPLATE, root)
    (root / f"{DATA}.dvc").write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: diabetes.csv\n")
    return root


def edit(root: Path, name: str, change) -> None:
    document = yaml.safe_load((root / name).read_text())
    change(document)
    (root / name).write_text(yaml.safe_dump(document, sort_keys=False))


def test_the_digits_project_resolves_as_before() -> None:
    found = project.load(REPO_ROOT)
    assert (found.artifact, found.model_path) == ("model", "models/model.joblib")
    assert (found.metrics, found.data_stats) == ("metrics/metrics.json", "metrics/data.json")
    assert found.raw.path == "data/raw" and not found.raw.single
    assert found.engine_owned == ("dvc.lock", "metrics/data.json", "metrics/metrics.json")


def test_what_the_release_section_leaves_out_comes_from_dvc_yaml(byop: Path) -> None:
    """No metrics_file, raw_data or artifact in params.yaml: the only metrics output, the stage dep tracked by a
    .dvc file, and the model artifact."""
    found = project.load(byop)
    assert (found.artifact, found.model_path) == ("regressor", "models/regressor.joblib")
    assert found.metrics == "metrics/scores.json" and found.data_stats is None
    assert found.raw.path == DATA and found.raw.single
    assert found.config.direction == "lower" and found.config.threshold == "relative"
    assert found.engine_owned == ("dvc.lock", "metrics/scores.json")
    assert found.raw.in_tree(byop) == {DATA: "0123456789abcdef0123456789abcdef"}
    assert found.raw.is_batch(DATA) and not found.raw.is_batch("data/split/train.csv")


def test_no_tracked_stage_dep_asks_for_raw_data_in_one_line(byop: Path) -> None:
    (byop / f"{DATA}.dvc").unlink()
    with pytest.raises(ParamsError) as raised:
        project.load(byop)
    message = str(raised.value)
    assert message.startswith("params.yaml: release.raw_data is not set") and "add release.raw_data" in message
    assert "\n" not in message and raised.value.exit_code == 2


def test_several_metrics_files_ask_for_metrics_file(byop: Path) -> None:
    def two(document: dict) -> None:
        document["stages"]["split"]["metrics"] = [{"metrics/split.json": {"cache": False}}]

    edit(byop, "dvc.yaml", two)
    with pytest.raises(ParamsError, match=r"add release.metrics_file: the one holding `rmse`"):
        project.load(byop)
    edit(byop, "params.yaml", lambda document: document["release"].update(metrics_file="metrics/scores.json"))
    assert project.load(byop).metrics == "metrics/scores.json"
    assert project.load(byop).engine_owned == ("dvc.lock", "metrics/split.json", "metrics/scores.json")


def test_a_metrics_file_dvc_yaml_does_not_declare_is_refused(byop: Path) -> None:
    edit(byop, "params.yaml", lambda document: document["release"].update(metrics_file="scores.json"))
    with pytest.raises(ParamsError, match=r"release.metrics_file `scores.json` is neither under `metrics:`"):
        project.load(byop)


def test_metrics_wherever_dvc_allows_them(byop: Path) -> None:
    """Issue 23, stop 1 (the old code refused each with `... is not a stage output of dvc.yaml with cache: false`):
    a cached stage `metrics:` output, a file listed by the top-level `metrics:`, and a file inside a cached output
    folder (dvclive's eval/metrics.json). None of them is committed: they are in DVC's cache, not in git."""

    def cached(document: dict) -> None:
        document["stages"]["fit"]["metrics"] = ["metrics/scores.json"]

    edit(byop, "dvc.yaml", cached)
    found = project.load(byop)
    assert found.metrics == "metrics/scores.json" and found.engine_owned == ("dvc.lock",)

    def top_level_inside_a_folder(document: dict) -> None:
        document["stages"]["fit"].pop("metrics")
        document["stages"]["fit"]["outs"].append("eval")
        document["metrics"] = ["eval/metrics.json"]

    edit(byop, "dvc.yaml", top_level_inside_a_folder)
    found = project.load(byop)
    assert found.metrics == "eval/metrics.json" and found.engine_owned == ("dvc.lock",)

    edit(byop, "dvc.yaml", lambda document: document.pop("metrics"))
    with pytest.raises(ParamsError, match=r"declares no `metrics:`"):
        project.load(byop)
    edit(byop, "params.yaml", lambda document: document["release"].update(metrics_file="eval/metrics.json"))
    assert project.load(byop).metrics == "eval/metrics.json"


def test_artifacts_by_name_and_by_type(byop: Path) -> None:
    def second_model(document: dict) -> None:
        document["artifacts"]["baseline"] = {"path": "models/baseline.joblib", "type": "model"}

    edit(byop, "dvc.yaml", second_model)
    with pytest.raises(ParamsError, match=r"several model artifacts .* add release\.artifact"):
        project.load(byop)
    edit(byop, "params.yaml", lambda document: document["release"].update(artifact="baseline"))
    assert project.load(byop).artifact == "baseline"
    edit(byop, "params.yaml", lambda document: document["release"].update(artifact="nope"))
    with pytest.raises(ParamsError, match=r"release\.artifact `nope` is not declared"):
        project.load(byop)
    edit(byop, "dvc.yaml", lambda document: document.pop("artifacts"))
    edit(byop, "params.yaml", lambda document: document["release"].pop("artifact"))
    with pytest.raises(BadInputError, match="declares no artifact of type model"):
        project.load(byop)


@pytest.mark.parametrize(("key", "value"), [("direction", "up"), ("threshold", "percent"), ("append_only", "yes")])
def test_bad_engine_settings_name_the_key(byop: Path, key: str, value: str) -> None:
    edit(byop, "params.yaml", lambda document: document["release"].update({key: value}))
    with pytest.raises(ParamsError) as raised:
        project.load(byop)
    assert str(raised.value).startswith(f"params.yaml: release.{key}: ") and "\n" not in str(raised.value)


def test_a_broken_dvc_yaml_is_one_line(byop: Path) -> None:
    (byop / "dvc.yaml").write_text("stages: [unclosed\n")
    with pytest.raises(BadInputError, match=r"^dvc.yaml: not valid YAML") as raised:
        project.load(byop)
    assert "\n" not in str(raised.value)


def test_batch_only_commands_refuse_a_single_data_file_in_one_line(byop: Path) -> None:
    """`retrain ingest` and `migrate-data` add or split batches: with one tracked file they say what they need."""
    raw = project.load(byop).raw
    with pytest.raises(BadInputError) as raised:
        _ = raw.folder
    assert str(raised.value).startswith(f"{DATA} is one file tracked by {DATA}.dvc") and raised.value.exit_code == 2
    assert project.load(REPO_ROOT).raw.folder == "data/raw"


# --- the .gitignore rules DVC writes for the outputs it caches ---------------------------------------------------
def test_each_cached_output_has_the_rule_dvc_writes_beside_it(byop: Path) -> None:
    """`/NAME` in the .gitignore of the output's folder (the root's for a file at the root); uncached outputs (kept
    in git) have none."""
    assert project.load(byop).output_ignores == (
        ("data/.gitignore", "/split"),
        ("models/.gitignore", "/regressor.joblib"),
    )
    edit(byop, "dvc.yaml", lambda document: document["stages"]["fit"]["outs"].append("model.pkl"))
    assert (".gitignore", "/model.pkl") in project.load(byop).output_ignores
    assert project.load(REPO_ROOT).output_ignores == (
        ("data/.gitignore", "/processed"),
        ("models/.gitignore", "/model.joblib"),
        ("plots/.gitignore", "/confusion.csv"),
        ("plots/.gitignore", "/per_class.csv"),
    )


LINES = st.lists(st.text(st.characters(blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), max_size=12))


@settings(max_examples=200, deadline=None)
@given(old=LINES, rules=st.lists(st.from_regex(r"/[a-z_.]{1,10}", fullmatch=True), min_size=1, max_size=4))
def test_a_gitignore_with_only_dvcs_rules_added_is_the_engines_and_any_other_edit_is_the_users(
    old: list[str], rules: list[str]
) -> None:
    """Whatever the file held: DVC's rules appended (in any order, blank lines aside) are the engine's to commit;
    a removed line, or an added line that is no rule of an output, is a person's edit and stays theirs."""
    text = "\n".join(old) + ("\n" if old else "")
    assert project.only_rules_added(text, text + "\n".join(reversed(rules)) + "\n\n", rules)
    assert project.only_rules_added(text, text, rules)
    kept = [line for line in old if line.strip()]
    if kept and kept[0] not in rules and kept.count(kept[0]) == 1:
        without = "\n".join(line for line in old if line != kept[0]) + "\n" + "\n".join(rules)
        assert not project.only_rules_added(text, without, rules)
    stranger = "/" + "x" * 12  # longer than any rule above
    assert not project.only_rules_added(text, text + stranger + "\n", rules) or stranger in text.splitlines()
