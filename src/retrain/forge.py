"""The forge's API (GitHub's REST API), only what announcing a run needs: the pull requests merged into a branch.

After a retrain, the report goes to the pull requests the run releases: every pull request merged into `develop`
since the previous release, found by listing the closed pull requests whose base is `develop` and keeping the merged
ones whose merge commit is in the git history between the two releases. That names the right ones even when
GitHub's concurrency replaced the runs of earlier merges (the next run releases them all), and never picks another
open pull request that merely contains the commit (what CML's automatic target, "the pull request associated with
the commit", may pick, e.g. a develop -> main pull request).
"""

from __future__ import annotations

import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrain import gitops, layout, project, versioning
from retrain.errors import BadInputError, ForgeError

API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_PAGES = 5  # 500 closed pull requests into the branch, most recently updated first
TIMEOUT_S = 20
ANNOUNCED = ("released", "gated")  # run.json statuses worth a comment
# GitHub's default merge messages: "Merge pull request #12 from owner/branch", and "Title (#12)" for a squash.
MERGE_SUBJECT = re.compile(r"^Merge pull request #(\d+) from |\(#(\d+)\)$")


@dataclass(frozen=True)
class Forge:
    api_url: str
    repository: str  # owner/name
    token: str | None

    @classmethod
    def from_environment(cls, env: Mapping[str, str], repository: str | None = None) -> Forge | None:
        """GitHub Actions' or Travis's repository and API; the token CML uses too (REPO_TOKEN, else GITHUB_TOKEN)."""
        repository = repository or env.get("GITHUB_REPOSITORY") or env.get("TRAVIS_REPO_SLUG")
        if not repository:
            return None
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
            raise BadInputError(f"--repo {repository}: expected OWNER/NAME.")
        api = env.get("GITHUB_API_URL") or "https://api.github.com"
        return cls(api.rstrip("/"), repository, env.get("REPO_TOKEN") or env.get("GITHUB_TOKEN") or None)

    def get(self, path: str, query: Mapping[str, str | int]) -> list[Any] | dict[str, Any]:
        url = f"{self.api_url}{path}?{urllib.parse.urlencode(query)}"
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "retrain",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 (an https URL from the CI's settings)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
                answer: list[Any] | dict[str, Any] = json.loads(response.read().decode())
                return answer
        except urllib.error.HTTPError as error:
            raise ForgeError(f"{self.api_url} answered {error.code} {error.reason} for {path}") from None
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise ForgeError(f"{self.api_url} could not be reached ({reason})") from None

    def merged_into(self, base: str, merge_commits: set[str]) -> list[int]:
        """Numbers of the pull requests merged into `base` whose merge commit is one of `merge_commits`."""
        found: set[int] = set()
        for page in range(1, MAX_PAGES + 1):
            query: dict[str, str | int] = {
                "state": "closed",
                "base": base,
                "sort": "updated",
                "direction": "desc",
                "per_page": PER_PAGE,
            }
            pulls = self.get(f"/repos/{self.repository}/pulls", {**query, "page": page})
            if not isinstance(pulls, list):
                raise ForgeError(f"{self.api_url}: unexpected answer listing pull requests")
            for pull in pulls:
                merged = pull.get("merged_at") and pull.get("merge_commit_sha") in merge_commits
                if merged and (pull.get("base") or {}).get("ref", base) == base:
                    found.add(int(pull["number"]))
            if len(pulls) < PER_PAGE:
                break
        return sorted(found)


@dataclass(frozen=True)
class Announcement:
    numbers: list[int]  # the pull requests the run releases (or gates)
    since: str | None  # the previous release
    commit: str  # the run's last commit (the release commit, or the gated one)

    @property
    def targets(self) -> list[str]:
        """CML comment targets: each pull request, else the commit."""
        return [f"pr/{number}" for number in self.numbers] or [f"commit/{self.commit}"]


def announce(
    root: Path, into: str, report: Path | None, env: Mapping[str, str], repository: str | None
) -> Announcement | None:
    """After `retrain run`: which pull requests its report belongs on. None when the run is no news (up to date,
    dry run). Appends the list to `report` when given."""
    summary_path = root / layout.RUN_SUMMARY
    try:
        summary = json.loads(summary_path.read_text())
    except (OSError, ValueError):
        raise BadInputError(f"{layout.RUN_SUMMARY}: missing or unreadable; run `retrain run` first.") from None
    if summary.get("status") not in ANNOUNCED:
        say(f"status {summary.get('status')}: nothing to announce")
        return None
    commit = summary.get("commit") or gitops.head(root)
    artifact, _ = project.artifact(root)
    since = previous_release(root, artifact, commit, summary.get("tag"))
    commits = gitops.commits_between(root, since, commit)
    forge = Forge.from_environment(env, repository)
    numbers: list[int] = []
    if forge is None:
        say("no repository (GITHUB_REPOSITORY, TRAVIS_REPO_SLUG or --repo): pull requests read from merge messages")
        numbers = from_merge_messages(root, since, commit)
    else:
        try:
            numbers = forge.merged_into(into, set(commits))
        except ForgeError as error:
            say(f"warning: {error}; pull requests read from merge messages instead")
            numbers = from_merge_messages(root, since, commit)
    made = Announcement(numbers, since, commit)
    if report is not None and (root / report).is_file():
        with (root / report).open("a") as handle:
            handle.write(markdown(made, into))
    say(f"pull requests merged into {into} since {since or 'the first commit'}: {listing(numbers) or 'none'}")
    return made


def previous_release(root: Path, artifact: str, commit: str, this_tag: str | None) -> str | None:
    """The latest release before `commit`'s: a release tag on its history, other than the run's own."""
    tags = gitops.tags(root, layout.release_glob(artifact), merged_into=commit)
    earlier = [tag for tag in tags if tag != this_tag]
    found = versioning.latest(earlier, artifact)
    return found.tag if found else None


def from_merge_messages(root: Path, since: str | None, commit: str) -> list[int]:
    """Pull request numbers in GitHub's default merge and squash subjects on the branch's own line of history."""
    numbers = set()
    for subject in gitops.subjects_between(root, since, commit, first_parent=True):
        if match := MERGE_SUBJECT.search(subject):
            numbers.add(int(match.group(1) or match.group(2)))
    return sorted(numbers)


def listing(numbers: list[int]) -> str:
    return ", ".join(f"#{number}" for number in numbers)


def markdown(made: Announcement, into: str) -> str:
    since = f"`{made.since}`" if made.since else "the first release"
    merged = listing(made.numbers) or "none (a direct push or a manual run)"
    return f"\n### Pull requests\n\nMerged into `{into}` since {since}: {merged}.\n"


def say(text: str) -> None:
    print(text, file=sys.stderr)
