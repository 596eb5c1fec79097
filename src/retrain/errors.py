"""Errors that carry an exit code and a message a user can act on."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_GATED = 3


class RetrainError(Exception):
    """A failure with a one-line, actionable message and the exit code it maps to."""

    exit_code = EXIT_FAILURE


class BadInputError(RetrainError):
    """Bad data, params, config or credentials: the user has to fix something (exit 2)."""

    exit_code = EXIT_BAD_INPUT


class ParamsError(BadInputError):
    """params.yaml's section for the engine (`release:`) breaks its schema."""


class MissingDataError(RetrainError):
    """Raw batches named by git that neither the remote, this machine's cache nor the work tree holds (exit 1)."""

    def __init__(self, message: str, batches: list[str], remote: str) -> None:
        super().__init__(message)
        self.batches = batches  # the raw files, e.g. a batch of the batch folder
        self.remote = remote


class GatedError(RetrainError):
    """The new model regressed beyond the allowed margin (exit 3)."""

    exit_code = EXIT_GATED


# Where a failing stage leaves its one-line error for `retrain run`: a contract with the pipeline's
# pipeline.errors (the engine never imports the pipeline), checked by a test.
STAGE_ERROR_FILE_ENV = "RETRAIN_STAGE_ERROR_FILE"
