"""One bounded retry for every push to origin that may be refused because origin moved meanwhile (never forced).

A release (`retrain run`), a stage assignment (`retrain promote`/`rollback`) and an ingest each push something that
another run may have beaten to origin. Each undoes or rebuilds its own local state differently, so each passes what
to do before the next attempt; the bound, the loop and the give-up message's shape are shared here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from retrain.errors import PushRejectedError, RetrainError

MAX_PUSH_ATTEMPTS = 3

T = TypeVar("T")


def with_retries(
    attempt: Callable[[int], T],
    again: Callable[[Exception, int], None],
    gave_up: str,
    refused: type[Exception] = PushRejectedError,
) -> T:
    """`attempt(n)` for n = 1.. until it returns; when it raises `refused` (origin took the push's place first),
    `again(refusal, n)` makes it possible to try again, up to MAX_PUSH_ATTEMPTS attempts in all. Then a RetrainError
    that says so, followed by `gave_up` (what was left behind; starts with its own punctuation)."""
    for number in range(1, MAX_PUSH_ATTEMPTS + 1):
        try:
            return attempt(number)
        except refused as refusal:
            if number == MAX_PUSH_ATTEMPTS:
                raise RetrainError(f"{refusal}; gave up after {number} attempts{gave_up}") from None
            again(refusal, number)
    raise AssertionError("unreachable: the loop returns or raises")
