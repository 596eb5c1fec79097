"""`python -m pipeline.validate FILE...`: check delivery files against the dataset's rules, without writing anything.

The release engine runs it (params.yaml `release.validate_command`) on each new delivery before adding it as a raw
batch: the same rules as the preprocessing stage, so a delivery accepted here is never refused by the pipeline.

One JSON object per file on stdout, in the order given: `{"file": PATH, "error": null}` for a valid file, or the
one-line message a person would get (file, column, rule, lines). Exit 0 when every file is valid, 2 otherwise.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeline.dataset import BATCH_SUFFIX, COLUMNS, read_batch
from pipeline.errors import EXIT_BAD_INPUT, PipelineError


def check(path: Path) -> str | None:
    """The file's first violation as one line, or None when it is a valid batch."""
    if path.suffix != BATCH_SUFFIX:
        return (
            f"{path}: not a CSV batch: a delivery is a {BATCH_SUFFIX} file with the columns "
            f"pixel_0..pixel_63, {COLUMNS[-1]}. Deliver it as CSV under a new name."
        )
    try:
        read_batch(path)
    except PipelineError as error:
        return str(error)
    except UnicodeDecodeError:
        return f"{path}: not a text CSV (undecodable bytes); deliver it as UTF-8 CSV under a new name."
    except OSError as error:
        return f"{path}: cannot be read ({error.strerror}); deliver it again."
    return None


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m pipeline.validate FILE...", file=sys.stderr)
        return EXIT_BAD_INPUT
    bad = 0
    for name in argv:
        error = check(Path(name))
        bad += error is not None
        print(json.dumps({"file": name, "error": error}), flush=True)
    return EXIT_BAD_INPUT if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
