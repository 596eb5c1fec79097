"""Every error the engine raises on purpose: each carries an exit code and a message a user can act on.

The exit codes live here and nowhere else: 0 ok, 1 failure (RetrainError and the subclasses that keep its code),
2 bad input (BadInputError), 3 gated (GatedError). `retrain.cli` maps any RetrainError to its `exit_code`.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_GATED = 3


def keep_traceback(error: BaseException, log: Path) -> bool:
    """Write an unexpected error's traceback to `log` (layout.ERROR_LOG), which the line a user reads names;
    False when it could not be written."""
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("".join(traceback.format_exception(error)))
    except OSError:
        return False
    return True


class RetrainError(Exception):
    """A failure with a one-line, actionable message and the exit code it maps to."""

    exit_code = EXIT_FAILURE


# --- exit 2: the user has to fix something ---------------------------------------------------------------------
class BadInputError(RetrainError):
    """Bad data, params, config or credentials: the user has to fix something (exit 2)."""

    exit_code = EXIT_BAD_INPUT


class ParamsError(BadInputError):
    """params.yaml's section for the engine (`release:`) breaks its schema."""


class UnknownMetricError(ParamsError):
    """release.primary_metric names no number of the metrics file: the line lists the names it has."""

    def __init__(self, name: str, metrics_file: str, known: list[str]) -> None:
        super().__init__(
            f"params.yaml: release.primary_metric `{name}` is not a number in {metrics_file} (it has: "
            f"{', '.join(known) or 'no number'}); fix it."
        )


class NoOriginError(BadInputError):
    """A pushing command in a clone with no git remote named `origin` (exit 2, like any missing configuration)."""

    def __init__(self, flag: str) -> None:
        super().__init__(f"{flag} needs a git remote named `origin`; add it with `git remote add origin URL`.")


class IgnoredFileError(BadInputError):
    """A file the release must commit (dvc.lock, a `cache: false` output) that a .gitignore rule hides (exit 2)."""

    def __init__(self, path: str, rule: str) -> None:
        super().__init__(
            f"{path}: a release commits it, but git ignores it by {rule}; remove or narrow that rule (DVC writes "
            "one for each cached output, and leaves it when the output changes), commit, and re-run."
        )


class InitError(BadInputError):
    """`retrain init` cannot derive a setting, or an option's value is unusable: the line names the option to pass
    (exit 2). Nothing is written."""


# --- exit 3: the model regressed ---------------------------------------------------------------------------------
class GatedError(RetrainError):
    """The new model regressed beyond the allowed margin (exit 3)."""

    exit_code = EXIT_GATED


# --- exit 1 (RetrainError's own code): a failure; most are worth a re-run once the cause is gone ------------------
class MissingDataError(RetrainError):
    """Raw batches named by git that neither the remote, this machine's cache nor the work tree holds (exit 1)."""

    def __init__(self, message: str, batches: list[str], remote: str) -> None:
        super().__init__(message)
        self.batches = batches  # the raw files, e.g. a batch of the batch folder
        self.remote = remote


class CommandError(RetrainError):
    """An external command failed; carries its stderr (retrain.shell, exit 1)."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"`{' '.join(args)}` exited with {returncode}: {stderr.strip()[-500:]}")


class PushRejectedError(RetrainError):
    """origin refused the push (the branch moved, or the tag exists there; exit 1 once the retries are spent)."""


class OriginUnreachableError(RetrainError):
    """origin could not be reached (exit 1)."""


class PushForbiddenError(RetrainError):
    """origin's rules refuse this identity's push (a protected branch): retrying cannot help (exit 1)."""


class RemoteUnreachableError(RetrainError):
    """The DVC remote's endpoint did not answer (network, S3 down): try again later (exit 1)."""


class LandingUnreachableError(RetrainError):
    """The ingest landing did not answer: nothing was changed; try again later (exit 1)."""


class ForgeError(RetrainError):
    """The forge's API (GitHub's) could not answer (exit 1; `retrain announce` falls back to merge messages)."""


# Where a failing stage leaves its one-line error for `retrain run`: a contract with the pipeline's
# pipeline.errors (the engine never imports the pipeline), checked by a test.
STAGE_ERROR_FILE_ENV = "RETRAIN_STAGE_ERROR_FILE"
