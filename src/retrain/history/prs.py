"""The pull requests each release shipped, read from GitHub's default merge and squash subjects on its first-parent
history since the releases before it: one `git log` for all releases (the tags record no pull requests)."""

from __future__ import annotations

import re
from pathlib import Path

from retrain import gitops
from retrain.history.model import PullRequest

# GitHub's default merge messages: "Merge pull request #12 from owner/branch", and "Title (#12)" for a squash.
MERGE_SUBJECT = re.compile(r"^Merge pull request #(\d+) from |\(#(\d+)\)$")


def _title(record: gitops.CommitRecord) -> str | None:
    """A merge commit's body starts with the pull request's title; a squash's subject is the title and `(#N)`."""
    if record.subject.startswith("Merge pull request #"):
        first = record.body.strip().split("\n", 1)[0].strip()
        return first or None
    return MERGE_SUBJECT.sub("", record.subject).strip() or None


def shipped(root: Path, commits: list[str]) -> dict[str, list[PullRequest]]:
    """release commit -> the pull requests merged on its first-parent line and in no earlier release (`commits`
    oldest release first)."""
    graph = {record.sha: record for record in gitops.commit_records(root, list(dict.fromkeys(commits)))}
    covered: set[str] = set()
    found: dict[str, list[PullRequest]] = {}
    for commit in commits:
        if commit in found:
            continue
        merged: list[PullRequest] = []
        walk = commit
        while walk in graph and walk not in covered:
            record = graph[walk]
            if match := MERGE_SUBJECT.search(record.subject):
                merged.append(PullRequest(int(match.group(1) or match.group(2)), _title(record)))
            walk = record.parents[0] if record.parents else ""
        found[commit] = sorted(merged, key=lambda pr: pr.number)
        stack = [commit]  # everything this release holds, so later releases do not list it again
        while stack:
            sha = stack.pop()
            if sha in graph and sha not in covered:
                covered.add(sha)
                stack.extend(graph[sha].parents)
    return found
