"""A stage's refusal of its input: one line naming the file, column or key, and exit code 2.

The release engine turns exit code 2 into its own "bad input" exit; it reads the line from the file named by
STAGE_ERROR_FILE_ENV, when it set one, so that its last line repeats the stage's message.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

EXIT_BAD_INPUT = 2
STAGE_ERROR_FILE_ENV = "RETRAIN_STAGE_ERROR_FILE"


class PipelineError(Exception):
    """Bad input to a stage: data, params or a missing file; the message says what to fix."""


class DataError(PipelineError):
    """A raw batch file breaks the dataset schema."""


class ParamsError(PipelineError):
    """params.yaml breaks its schema."""


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage's main: a PipelineError becomes one line on stderr and exit code 2, never a traceback."""
    try:
        main()
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        if target := os.environ.get(STAGE_ERROR_FILE_ENV):
            Path(target).write_text(str(error))
        raise SystemExit(EXIT_BAD_INPUT) from None
