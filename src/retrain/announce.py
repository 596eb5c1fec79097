"""`retrain announce`: after a retrain in CI, the pull requests its report belongs on.

After a retrain, the report goes to the pull requests the run releases: every pull request merged into `develop`
since the previous release, found by listing the closed pull requests whose base is `develop` and keeping the merged
ones whose merge commit is in the git history between the two releases. That names the right ones even when
GitHub's concurrency replaced the runs of earlier merges (the next run releases them all), and never picks another
open pull request that merely contains the commit (what CML's automatic target, "the pull request associated with
the commit", may pick, e.g. a develop -> main pull request).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from retrain import gitops, layout, project, versioning
from retrain.errors import BadInputError, ForgeError
from retrain.forge import Forge
from retrain.history.prs import MERGE_SUBJECT
from retrain.untrusted import escape_markdown, markdown_name

ANNOUNCED = ("released", "gated")  # run.json statuses worth a comment


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
            handle.write(markdown(made, into) + trend(root, env))
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


HISTORY_ARTIFACT = "release-history"  # the name retrain.yml uploads `retrain history --html` under
TREND_RELEASES = 5


def trend(root: Path, env: Mapping[str, str]) -> str:
    """The primary metric over the last five releases, as a table, and where the whole history page is."""
    from retrain.history.collect import collect
    from retrain.steps import github_run_url

    try:
        history = collect(root)
    except BadInputError as error:  # the comment still goes out, saying why it has no trend
        return f"\n### Trend\n\nNo trend: {escape_markdown(str(error))}\n"
    metric = history.gate.metric
    shown = [release for release in history.releases[:TREND_RELEASES] if metric in release.metrics][::-1]
    lines = ["", "### Trend", "", f"| release | date | {markdown_name(metric, True)} |", "|---|---|---:|"]
    lines += [f"| {release.tag} | {release.date[:10]} | {release.metrics[metric]:.4f} |" for release in shown]
    if not shown:
        lines = ["", "### Trend", "", "No release with the primary metric yet."]
    run = env.get("RETRAIN_RUN_URL") or github_run_url(env)  # the artifact is GitHub's: no Travis build URL
    where = f"the workflow artifact `{HISTORY_ARTIFACT}` of [this run]({run})" if run else "`retrain history --html`"
    return "\n".join([*lines, "", f"Every release, stage and trend: {where}.", ""])


def say(text: str) -> None:
    print(text, file=sys.stderr)
