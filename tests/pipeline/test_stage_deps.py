"""dvc.yaml's code dependencies cover, by construction, every project module a stage imports.

Measured, not assumed: each stage's command from dvc.yaml runs for real in a sandbox under a wrapper that records,
when the process ends, every module it imported that lives in the project; each must lie under one of the stage's
`deps`, and none may be the release engine's.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.dataset import write_batch
from pipeline.digits import SEED_BATCH_NAME, seed_batch
from tests.helpers import REPO_ROOT, Project, base_env, sh

pytestmark = pytest.mark.slow  # runs the pipeline's stages against real git and DVC

WRAPPER = """
import atexit, json, os, runpy, sys
root = os.path.realpath(os.getcwd())

def record():
    files = sorted({os.path.relpath(os.path.realpath(m.__file__), root) for m in list(sys.modules.values())
                    if getattr(m, "__file__", None) and os.path.realpath(m.__file__).startswith(root + os.sep)})
    engine = sorted(name for name in sys.modules if name == "retrain" or name.startswith("retrain."))
    with open(os.environ["IMPORTS_OUT"], "w") as out:
        json.dump({"files": files, "engine": engine}, out)

atexit.register(record)
module, sys.argv = sys.argv[1], sys.argv[1:]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def stage_commands() -> dict[str, dict]:
    return yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]


def covered(path: str, deps: list[str]) -> bool:
    return any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in deps)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's pipeline code, params and one raw batch, in a folder the installed package does not point to."""
    root = tmp_path_factory.mktemp("stage-deps")
    shutil.copytree(REPO_ROOT / "src" / "pipeline", root / "src" / "pipeline")
    shutil.copy(REPO_ROOT / "params.yaml", root)
    (root / "data" / "raw").mkdir(parents=True)
    write_batch(seed_batch().head(400), root / "data" / "raw" / SEED_BATCH_NAME)
    (root / "wrapper.py").write_text(WRAPPER)
    return root


def run_measured(sandbox: Path, name: str, cmd: str) -> dict:
    """Run a dvc.yaml `cmd` (`[VAR=value ...] python -m MODULE ARGS`) under the wrapper; what it imported."""
    words = shlex.split(cmd)
    env = base_env()
    while "=" in words[0]:
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    assert words[:2] == ["python", "-m"], f"stage {name}: expected `python -m MODULE ...`, got {cmd!r}"
    env["IMPORTS_OUT"] = str(sandbox / f"{name}.imports.json")
    sh([sys.executable, "wrapper.py", *words[2:]], sandbox, env)
    return json.loads((sandbox / f"{name}.imports.json").read_text())


def test_every_imported_project_module_is_a_dependency_of_its_stage(sandbox: Path) -> None:
    seen = {}
    for name, stage in stage_commands().items():  # dvc.yaml lists them in the order they run
        imported = run_measured(sandbox, name, stage["cmd"])
        deps = [dep if isinstance(dep, str) else next(iter(dep)) for dep in stage["deps"]]
        code = [path for path in imported["files"] if path.endswith(".py")]
        assert code, f"stage {name} imported no project module from the sandbox: it ran someone else's code"
        uncovered = [path for path in code if not covered(path, deps)]
        assert not uncovered, f"stage {name} imports {uncovered}, not covered by its deps {deps}"
        assert not imported["engine"], f"stage {name} imported the release engine: {imported['engine']}"
        seen[name] = code
    assert "src/pipeline/dataset.py" in seen["train"] and "src/pipeline/model.py" in seen["evaluate"]


@pytest.mark.slow
def test_editing_a_function_of_train_and_evaluate_makes_both_stale(project: Project) -> None:
    """`features` is used only by train and evaluate (through model.fit and evaluation.evaluate): change how
    features are computed and DVC must report both stages changed, so the next release retrains."""
    assert project.retrain("run").returncode == 0
    # What a stage run leaves where byte-code is written (this environment may set PYTHONDONTWRITEBYTECODE).
    project.python("-m", "compileall", "-q", "src/pipeline")
    assert (project.root / "src/pipeline/__pycache__").is_dir()
    assert _changed_stages(project) == set(), "byte-code caches changed a stage's deps"
    dataset = project.root / "src/pipeline/dataset.py"
    before = "    scaled /= np.float32(PIXEL_RANGE[1])\n"
    assert before in dataset.read_text()
    dataset.write_text(dataset.read_text().replace(before, "    scaled *= np.float32(1.0 / PIXEL_RANGE[1])\n"))
    assert {"train", "evaluate"} <= _changed_stages(project)


def _changed_stages(project: Project) -> set[str]:
    status = json.loads(project.dvc("status", "--json").stdout or "{}")
    return {name.split(":")[-1] for name in status if not name.endswith(".dvc")}


def test_only_the_stages_that_fit_or_score_import_scikit_learn() -> None:
    """scikit-learn's import is most of a stage process's start-up: preprocessing, the params check and the
    delivery check never pay it (the seed command reads the digits scikit-learn ships)."""
    probe = "import importlib, sys; importlib.import_module(sys.argv[1]); print('sklearn' in sys.modules)"
    env = {**base_env(), "PYTHONPATH": str(REPO_ROOT / "src")}
    imports = {
        module: sh([sys.executable, "-c", probe, f"pipeline.{module}"], env=env).stdout.strip()
        for module in ("preprocessing", "params", "digits", "validate", "train", "evaluate")
    }
    assert imports == {
        "preprocessing": "False",
        "params": "False",
        "digits": "True",
        "validate": "False",
        "train": "True",
        "evaluate": "True",
    }
