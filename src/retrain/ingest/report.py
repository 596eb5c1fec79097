"""What an ingest run says: one line per delivery and a summary (stdout), reports/ingest.json for machines (CI
decides from it whether to open or update the pull request), reports/ingest.md for people (its body/comment)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from retrain.errors import BadInputError
from retrain.ingest import plan
from retrain.ingest.plan import Delivery, Outcome, Status
from retrain.layout import REPORTS
from retrain.untrusted import code_span, escape_markdown

INGEST_JSON = REPORTS / "ingest.json"
INGEST_MD = REPORTS / "ingest.md"


class Mode(StrEnum):
    """How an ingest run delivers its batches; a str, so ingest.json keeps the word."""

    PULL_REQUEST = "pull-request"  # committed on the ingest branch, for a pull request to the base
    RELEASE = "release"  # committed on the current branch, then released


@dataclass
class Summary:
    source: str
    rejected_location: str
    mode: Mode
    branch: str
    base: str
    rescan: bool
    start_after: str | None
    outcomes: list[Outcome] = field(default_factory=list)
    shown: dict[str, str] = field(default_factory=dict)  # key -> how a person sees it (the full URL)
    commit: str | None = None
    pushed: bool = False
    would_push: bool = False
    held: bool = False  # run with --hold: `retrain ingest --resume` pushes it, with this report
    pending_batches: list[str] = field(default_factory=list)
    release: dict[str, Any] | None = None
    retention_days: int | None = None
    deleted: list[tuple[plan.Expired, str]] = field(default_factory=list)  # originals deleted, as shown

    @property
    def exit_code(self) -> int:
        return plan.exit_code(self.outcomes)

    def lines(self) -> list[str]:
        shown = [plan.line(outcome, self.shown.get(outcome.delivery.key, outcome.delivery.key)) for outcome in self]
        return shown + [plan.expired_line(item, url, self.retention_days or 0) for item, url in self.deleted]

    def __iter__(self) -> Iterator[Outcome]:
        return iter(self.outcomes)

    def headline(self) -> str:
        deleted = f", {len(self.deleted)} original(s) deleted" if self.deleted else ""
        return plan.summary(self.outcomes) + deleted

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rejected_location": self.rejected_location,
            "mode": self.mode,
            "branch": self.branch,
            "base": self.base,
            "listing": {"rescan": self.rescan, "start_after": self.start_after, "listed": len(self.outcomes)},
            "deliveries": [_delivery_json(outcome, self.shown) for outcome in self.outcomes],
            "counts": {**plan.counts(self.outcomes), "deleted": len(self.deleted)},
            "summary": self.headline(),
            "commit": self.commit,
            "pushed": self.pushed,
            "would_push": self.would_push,
            "held": self.held,
            "pending_batches": self.pending_batches,
            "release": self.release,
            "retention": {
                "days": self.retention_days,
                "deleted": [
                    {"key": item.key, "url": url, "etag": item.etag, "since": plan.iso(item.since), "batch": item.batch}
                    for item, url in self.deleted
                ],
            },
            "exit_code": self.exit_code,
        }


def _delivery_json(outcome: Outcome, shown: dict[str, str]) -> dict[str, Any]:
    delivery = outcome.delivery
    return {
        "key": delivery.key,
        "url": shown.get(delivery.key, delivery.key),
        "etag": delivery.etag,
        "version_id": delivery.version_id,
        "size": delivery.size,
        "delivered": plan.iso(delivery.modified),
        "status": outcome.status.value if outcome.status else "new",
        "batch": outcome.batch,
        "reason": outcome.reason,
        "replaces": outcome.replaces,
    }


def markdown(summary: Summary) -> str:
    """The report a reviewer reads on the pull request: each delivery and what became of it. Keys and reasons come
    from outside (a reason may quote the delivery's content): keys in code spans, the rest escaped, none markup."""
    rows = ["| delivery | outcome |", "|---|---|"]
    for outcome in summary:
        shown = summary.shown.get(outcome.delivery.key, outcome.delivery.key)
        text = plan.line(outcome, shown).removeprefix(f"{shown}: ")
        rows.append(f"| {code_span(shown, in_table=True)} | {escape_markdown(text)} |")
    where = f"on {code_span(summary.branch)}" + (
        f" for {code_span(summary.base)}" if summary.mode is Mode.PULL_REQUEST else ""
    )
    parts = [
        f"## Ingest from {code_span(summary.source)}",
        "",
        f"**{summary.headline()}** {where}.",
        "",
        *(rows if summary.outcomes else ["No delivery listed."]),
        "",
        f"Refused deliveries are copied to {code_span(summary.rejected_location)} with a `.reason.yaml` beside each.",
    ]
    if summary.pending_batches:
        parts += [
            "",
            "Batches this pull request adds:",
            "",
            *(f"- {code_span(name)}" for name in summary.pending_batches),
        ]
    if summary.deleted:
        parts += ["", f"Deleted from the landing ({summary.retention_days} days' retention):", ""]
        parts += [f"- {code_span(url)}" for _, url in summary.deleted]
    if summary.release:
        parts += ["", f"Release: {escape_markdown(str(summary.release.get('message')))}"]
    return "\n".join(parts) + "\n"


def read_held(root: Path, source: str, release: bool) -> Summary:
    """The report a --hold run wrote, for --resume: its deliveries, commit and mode, checked against this run's."""
    path = root / INGEST_JSON
    again = "run `retrain ingest SOURCE --hold` first, then --resume"
    try:
        data = json.loads(path.read_text())
        summary = _from_json(data)
    except FileNotFoundError:
        raise BadInputError(f"{INGEST_JSON}: no report of a held ingest to resume: {again}.") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BadInputError(f"{INGEST_JSON}: not a report `retrain ingest` wrote: {again}.") from None
    if not summary.held:
        raise BadInputError(f"{INGEST_JSON}: its run was not held (--hold), so there is nothing to resume: {again}.")
    if summary.source != source:
        raise BadInputError(f"{INGEST_JSON}: the held run ingested {summary.source}, not {source}: resume that one.")
    if (summary.mode is Mode.RELEASE) != release:
        flag = "with" if summary.mode is Mode.RELEASE else "without"
        raise BadInputError(f"{INGEST_JSON}: the held run was in {summary.mode} mode: resume it {flag} --release.")
    return summary  # still held (and would_push) until the resume has pushed and released: a failed one can re-run


def _from_json(data: dict[str, Any]) -> Summary:
    outcomes, shown = [], {}
    for item in data["deliveries"]:
        modified = plan.parse_time(item["delivered"])
        if modified is None:
            raise ValueError(item["delivered"])
        delivery = Delivery(str(item["key"]), str(item["etag"]), int(item["size"]), modified, item["version_id"])
        status = None if item["status"] == "new" else Status(item["status"])
        outcomes.append(Outcome(delivery, status, item["batch"], item["reason"], item["replaces"]))
        shown[delivery.key] = str(item["url"])
    listing = data["listing"]
    return Summary(
        source=str(data["source"]),
        rejected_location=str(data["rejected_location"]),
        mode=Mode(data["mode"]),
        branch=str(data["branch"]),
        base=str(data["base"]),
        rescan=bool(listing["rescan"]),
        start_after=listing["start_after"],
        outcomes=outcomes,
        shown=shown,
        commit=data["commit"],
        pushed=bool(data["pushed"]),
        would_push=bool(data["would_push"]),
        held=bool(data.get("held", False)),
        pending_batches=[str(name) for name in data["pending_batches"]],
        release=data["release"],
        retention_days=data["retention"]["days"],
    )


def write(root: Path, summary: Summary) -> None:
    (root / REPORTS).mkdir(parents=True, exist_ok=True)
    (root / INGEST_JSON).write_text(json.dumps(summary.to_json(), indent=2) + "\n")
    (root / INGEST_MD).write_text(markdown(summary))
