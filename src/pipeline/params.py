"""params.yaml: one pydantic model per stage section (types and bounds in the declaration, unknown keys refused),
and one-line messages that name the key."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.errors import ParamsError

PARAMS_FILE = Path("params.yaml")
# Sections of params.yaml that the release engine reads (no stage does): validated there, allowed here.
ENGINE_SECTIONS = ("release",)
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PreprocessingParams(Section):
    test_size: Annotated[float, Field(gt=0.0, le=1.0)]  # share of each batch held out for evaluation
    seed: Seed


class TrainParams(Section):
    C: Annotated[float, Field(gt=0.0)]
    max_iter: Annotated[int, Field(ge=1, le=100_000)]
    seed: Seed


class PipelineParams(Section):
    preprocessing: PreprocessingParams
    train: TrainParams


S = TypeVar("S", bound=BaseModel)
TYPE_NAMES = {"float_type": "float", "int_type": "int", "string_type": "str", "bool_type": "bool"}
BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def read_params_file(path: Path = PARAMS_FILE, shown: Path | None = None) -> dict[str, Any]:
    """Parse params.yaml into a mapping, or say in one line (named `shown`, default `path`) why it cannot be read."""
    shown = shown or path
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ParamsError(f"{shown}: file not found; run from the repository root.") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())  # the parser's message spans lines; the last line must say it all
        raise ParamsError(f"{shown}: not valid YAML ({reason}); fix the file and re-run.") from None
    if not isinstance(document, Mapping):
        raise ParamsError(f"{shown}: expected a mapping of sections, got {type(document).__name__}.")
    return dict(document)


def explain(error: ValidationError, path: Path | str, section: str | None = None) -> str:
    """pydantic's first complaint as the one line a user acts on: file, dotted key, what is wrong, what to do."""
    first = error.errors()[0]
    loc = (section, *first["loc"]) if section else tuple(first["loc"])
    where = ".".join(str(part) for part in loc)
    kind, ctx, value = first["type"], first.get("ctx") or {}, first.get("input")
    if kind == "missing":
        return f"{path}: section '{where}' is missing; add it." if len(loc) == 1 else f"{path}: {where}: missing key."
    if kind == "extra_forbidden":
        what = f"unknown section '{where}'" if len(loc) == 1 else f"{where}: unknown key"
        return f"{path}: {what}; remove it or fix its spelling."
    if kind in ("model_type", "dict_type"):
        return f"{path}: section '{where}' must be a mapping of keys, got {value!r}."
    if kind in BOUNDS:
        bound = next(iter(ctx.values()))
        return f"{path}: {where}: must be {BOUNDS[kind]} {bound}, got {value!r}; fix {path}."
    if kind in TYPE_NAMES:
        return f"{path}: {where}: expected {TYPE_NAMES[kind]}, got {value!r} ({type(value).__name__}); fix {path}."
    if kind == "literal_error":
        return f"{path}: {where}: must be one of {ctx.get('expected', '')}, got {value!r}; fix {path}."
    return f"{path}: {where}: {first['msg']} (got {value!r}); fix {path}."


def validate(model: type[S], values: Any, path: Path | str = PARAMS_FILE, section: str | None = None) -> S:
    """`values` as `model`, or a ParamsError naming the key; `section` prefixes the key when only one is checked."""
    if section is not None and values is None:
        raise ParamsError(f"{path}: section '{section}' is missing; add it.")
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise ParamsError(explain(error, path, section)) from None


def validate_all(document: Mapping[str, Any], path: Path | str = PARAMS_FILE) -> PipelineParams:
    """Every stage's section, and no section that nobody reads."""
    return validate(PipelineParams, {k: v for k, v in document.items() if k not in ENGINE_SECTIONS}, path)


def load_preprocessing(path: Path = PARAMS_FILE) -> PreprocessingParams:
    return validate(PreprocessingParams, read_params_file(path).get("preprocessing"), path, "preprocessing")


def load_train(path: Path = PARAMS_FILE) -> TrainParams:
    return validate(TrainParams, read_params_file(path).get("train"), path, "train")


def main() -> None:
    """`python -m pipeline.params`: check every stage's section of params.yaml (the engine's preflight runs it)."""
    validate_all(read_params_file())
    print(f"{PARAMS_FILE}: every stage's section is valid")


if __name__ == "__main__":
    from pipeline.errors import run_stage

    run_stage(main)
