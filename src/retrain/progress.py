"""Each step of a run says what it is doing and how long it took."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.index = 0
        self.stream = stream

    def say(self, text: str) -> None:
        print(f"       {text}", file=self.stream, flush=True)

    @contextmanager
    def step(self, name: str, number: int | None = None) -> Iterator[None]:
        """`[number/total] name ...`, then the same with the seconds it took; `number` defaults to the next one
        (a fixed number keeps a step's place in a cycle whose steps may be skipped or repeated)."""
        self.index = number if number is not None else self.index + 1
        print(f"[{self.index}/{self.total}] {name} ...", file=self.stream, flush=True)
        began = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - began
            print(f"[{self.index}/{self.total}] {name}: {elapsed:.1f}s", file=self.stream, flush=True)
