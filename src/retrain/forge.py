"""The forge's API (GitHub's REST API), only what announcing a run needs (retrain.announce): the pull requests
merged into a branch."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from retrain.errors import BadInputError, ForgeError

API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_PAGES = 5  # 500 closed pull requests into the branch, most recently updated first
TIMEOUT_S = 20


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
