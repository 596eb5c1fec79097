"""The files `retrain init` writes besides params.yaml's section, as text: GTO's `.gto`, the CI callers (GitHub
Actions workflows that call this project's reusable workflows at the installed engine's tag, and `.travis.yml`), and
the day-one checklist with the AWS policies it names.

The callers hold triggers, permissions and concurrency only: what runs is in the reusable workflows of the engine's
repository (`.github/workflows/report.yml`, `release.yml`, `promotion.yml`, `ingestion.yml`), pinned to the tag of
the version that wrote them, so an upgrade is one bumped ref (Dependabot's `github-actions` ecosystem proposes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from importlib import resources
from importlib.metadata import metadata, version

import yaml

CHECKLIST = "docs/retrain/day-one.md"
AWS_DIR = "docs/retrain/aws"
# The AWS policies the two CI roles and the bucket need (the engine's own docs/aws holds the same files; a test checks).
AWS_FILES = (
    "pr-role-trust.json",
    "pr-role-permissions.json",
    "release-role-trust.json",
    "release-role-permissions.json",
    "bucket-policy.json",
    "contributor-permissions.json",
    "stage-role-trust.json",
    "stage-role-permissions.json",
)
# With `--ingest`: the scheduled ingest's role, and what a release-mode ingest adds to the release role.
INGEST_AWS_FILES = ("ingest-role-trust.json", "ingest-role-permissions.json", "release-role-ingest-permissions.json")
GTO = ".gto"
PR_WORKFLOW = ".github/workflows/pr.yml"
RELEASE_WORKFLOW = ".github/workflows/retrain.yml"
PROMOTE_WORKFLOW = ".github/workflows/promote.yml"
INGEST_WORKFLOW = ".github/workflows/ingest.yml"
DEFAULT_STAGES = ("dev", "staging", "prod")  # what init's .gto lists
TRAVIS = ".travis.yml"
DEPENDABOT = ".github/dependabot.yml"
DEPENDABOT_TEXT = """\
# Written by `retrain init`: Dependabot proposes the next release of the reusable workflows the CI callers pin
# (`uses: OWNER/REPO/.github/workflows/release.yml@vX.Y.Z`), which install the engine of the same tag. Read the
# engine's CHANGELOG.md, then merge it.
version: 2
updates:
  - package-ecosystem: github-actions
    directory: /
    schedule:
      interval: weekly
"""
GTO_TEXT = """\
# GTO's registry settings (read by `gto`, DVC Studio and `retrain promote`): the stages a model version can be
# assigned, in promotion order. Written by `retrain init`; GTO refuses any other stage, so add yours here.
stages: [dev, staging, prod]
"""


class Ci(Enum):
    GITHUB = "github"
    TRAVIS = "travis"
    BOTH = "both"


@dataclass(frozen=True)
class Engine:
    """Where the reusable workflows live and which release of them a caller pins."""

    repository: str  # OWNER/REPO on GitHub
    tag: str  # vX.Y.Z

    @staticmethod
    def installed() -> Engine:
        """The engine `init` runs from: its source repository (pyproject.toml's `Source` URL) and its version's tag."""
        urls = dict(entry.split(", ", 1) for entry in metadata("retrain").get_all("Project-URL") or [])
        repository = urls["Source"].removeprefix("https://github.com/").strip("/")
        return Engine(repository, f"v{version('retrain')}")

    def uses(self, workflow: str) -> str:
        return f"{self.repository}/.github/workflows/{workflow}@{self.tag}"

    @property
    def pip_spec(self) -> str:
        return f"retrain @ git+https://github.com/{self.repository}@{self.tag}"


def files(
    engine: Engine,
    ci: Ci,
    owner_repo: str | None,
    artifact: str = "model",
    stages: tuple[str, ...] = DEFAULT_STAGES,
    ingest: bool = False,
) -> dict[str, str]:
    """path -> text of every file init writes besides params.yaml, for `--ci`; `artifact` names the tags the
    checklist's tag ruleset protects, `stages` (.gto's) the stages a promotion offers, `ingest` adds the scheduled
    ingest's caller, role and checklist step."""
    written = {
        GTO: GTO_TEXT,
        RELEASE_WORKFLOW: release_caller(engine),
        PROMOTE_WORKFLOW: promote_caller(engine, stages),
    }
    if ingest:
        written[INGEST_WORKFLOW] = ingest_caller(engine)
    if ci in (Ci.GITHUB, Ci.BOTH):
        written[PR_WORKFLOW] = pr_caller(engine)
    if ci in (Ci.TRAVIS, Ci.BOTH):
        written[TRAVIS] = travis(engine)
    written[DEPENDABOT] = DEPENDABOT_TEXT
    written[CHECKLIST] = checklist(engine, ci, owner_repo, artifact, stages, ingest)
    for name in AWS_FILES + (INGEST_AWS_FILES if ingest else ()):
        text = resources.files("retrain.init").joinpath("aws", name).read_text()
        written[f"{AWS_DIR}/{name}"] = text.replace("OWNER/REPO", owner_repo) if owner_repo else text
    return written


def pr_caller(engine: Engine) -> str:
    return f"""\
# Written by `retrain init`: a pull request to develop (or develop -> main) is reproduced and reported, as one
# comment that each push updates. What runs is {engine.repository}'s reusable workflow, pinned to {engine.tag}:
# upgrading is bumping that ref. No path filter: a skipped workflow leaves a required check Pending.
name: pull-request report

on:
  pull_request:
    branches: [develop, main]

permissions:
  contents: read

concurrency:
  group: pr-report-${{{{ github.event.pull_request.number }}}}
  cancel-in-progress: true

jobs:
  report:
    # A called workflow keeps or lowers these, never raises them (GitHub, "Reusing workflows").
    permissions:
      contents: read
      id-token: write # OIDC: the pull-request role (AWS_ROLE_ARN)
      pull-requests: write # the report comment
    uses: {engine.uses("report.yml")}
    with:
      requirements: requirements.txt # the team's own; the engine is the reusable workflow's own tag
    secrets: inherit
"""


def release_caller(engine: Engine) -> str:
    return f"""\
# Written by `retrain init`: a merge to develop (or a manual run from develop) is released with `retrain run --push`
# in the GitHub Environment `release`. What runs is {engine.repository}'s reusable workflow, pinned to {engine.tag}.
name: retrain

on:
  push:
    branches: [develop]
  workflow_dispatch:
    inputs:
      force:
        description: Recompute every stage, ignoring the run-cache
        type: boolean
        default: false
      dry_run:
        description: Reproduce, verify and gate only (no commit, tag, push or comment)
        type: boolean
        default: false
      note:
        description: Free text kept in the new release tag's message
        type: string
        default: ""

permissions:
  contents: read

# One release at a time, never cancelled mid-push; the push of the engine's own release commit (its final line is
# the trailer `Retrain-Commit: release`) has a group of its own and releases nothing.
concurrency:
  group: >-
    ${{{{ (endsWith(toJSON(github.event.head_commit.message), '\\nRetrain-Commit: release"')
    || endsWith(toJSON(github.event.head_commit.message), '\\nRetrain-Commit: release\\n"'))
    && format('retrain-release-commit-{{0}}', github.sha) || 'retrain-develop' }}}}
  cancel-in-progress: false

jobs:
  release:
    permissions:
      contents: write # the release commit and tag (GITHUB_TOKEN, until the App is set up)
      id-token: write # OIDC: the release role (the `release` environment's AWS_ROLE_ARN)
      pull-requests: write # comments on the merged pull requests
    uses: {engine.uses("release.yml")}
    with:
      requirements: requirements.txt # the team's own; the engine is the reusable workflow's own tag
      force: ${{{{ inputs.force || false }}}}
      dry_run: ${{{{ inputs.dry_run || false }}}}
      note: ${{{{ inputs.note || '' }}}}
    secrets: inherit
"""


def promote_caller(engine: Engine, stages: tuple[str, ...]) -> str:
    choices = yaml.safe_dump(list(stages), default_flow_style=True, width=1_000_000).strip()
    return f"""\
# Written by `retrain init`: by hand (Actions tab -> promote -> Run workflow, from develop), assign a stage to a
# release or roll it back, then publish what the stage serves, in the GitHub Environment named after the stage.
# What runs is {engine.repository}'s reusable workflow, pinned to {engine.tag}. The stages are .gto's.
name: promote

on:
  workflow_dispatch:
    inputs:
      action:
        description: promote a version, or roll the stage back to the version that held it before
        type: choice
        options: [promote, rollback]
        default: promote
      version:
        description: The release to promote, e.g. v1.3.0 (rollback ignores it)
        type: string
        default: ""
      stage:
        description: The stage (the same list as `stages:` in .gto)
        type: choice
        options: {choices}
      note:
        description: Why (free text recorded in the stage tag)
        type: string
        default: ""

permissions:
  contents: read

concurrency:
  group: promote-${{{{ inputs.stage }}}}
  cancel-in-progress: false

jobs:
  promote:
    permissions:
      contents: write # push the stage tags
      id-token: write # OIDC: the stage's role (its environment's AWS_ROLE_ARN)
    uses: {engine.uses("promotion.yml")}
    with:
      requirements: requirements.txt # the team's own; the engine is the reusable workflow's own tag
      action: ${{{{ inputs.action }}}}
      version: ${{{{ inputs.version }}}}
      stage: ${{{{ inputs.stage }}}}
      note: ${{{{ inputs.note }}}}
    secrets: inherit
"""


def ingest_caller(engine: Engine) -> str:
    return f"""\
# Written by `retrain init --ingest`: on a schedule (edit the cron, UTC) or by hand, new deliveries in the landing
# prefix (the variable INGEST_LANDING, e.g. s3://BUCKET/landing/) become batches of the raw data, on a pull request
# to develop or, with INGEST_RELEASE=true (or the input `release`), released on develop. What runs is
# {engine.repository}'s reusable workflow, pinned to {engine.tag}.
name: ingest

on:
  schedule:
    - cron: "17 * * * *"
  workflow_dispatch:
    inputs:
      release:
        description: Commit on develop and release in this job (no pull request)
        type: boolean
        default: false
      rescan:
        description: List the whole landing, not only the keys after the last one recorded
        type: boolean
        default: false

permissions:
  contents: read

# Two ingests never run at once (the record of what was ingested is git), and one is never cancelled mid-push.
concurrency:
  group: ingest
  cancel-in-progress: false

jobs:
  ingest:
    permissions:
      contents: read # pushes and the pull request use the ingest App's token
      id-token: write # OIDC: the ingest role (or, in release mode, the release role)
    uses: {engine.uses("ingestion.yml")}
    with:
      requirements: requirements.txt # the team's own; the engine is the reusable workflow's own tag
      release: ${{{{ inputs.release || false }}}}
      rescan: ${{{{ inputs.rescan || false }}}}
    secrets: inherit
"""


def travis(engine: Engine) -> str:
    return f"""\
# Written by `retrain init`: Travis CI reproduces and reports pull requests into develop or main. Releases stay
# on GitHub Actions (.github/workflows/retrain.yml): Travis holds no credential that can push, tag or write where
# releases read. Settings variables: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (read-only keys, the pull-request
# role's permissions), PR_COMMENT_TOKEN (a fine-grained token with Pull requests: write only).
os: linux
dist: jammy
language: python
python: "3.11"
git:
  depth: false # full history and tags: the report's base needs them
env:
  global:
    - RETRAIN_REMOTE=s3remote
    - ITERATIVE_DO_NOT_TRACK=1
    - AWS_DEFAULT_REGION=us-east-1
install:
  - command -v cml > /dev/null || npm install -g @dvcorg/cml@0.20.6
  - python -m pip install --disable-pip-version-check -r requirements.txt "{engine.pip_spec}"
jobs:
  include:
    - name: "pull request: reproduce and report"
      if: type = pull_request AND branch IN (develop, main)
      script:
        - >-
          retrain report --base "origin/$TRAVIS_BRANCH" --reproduce --remote "$RETRAIN_REMOTE"
          --push-to s3remote-pr --output reports/report.md
        - |
          if [ "${{TRAVIS_SECURE_ENV_VARS:-false}}" = true ] && [ -n "${{PR_COMMENT_TOKEN:-}}" ]; then
            REPO_TOKEN="$PR_COMMENT_TOKEN" cml comment update reports/report.md --driver=github \\
              --repo="https://github.com/$TRAVIS_REPO_SLUG" --target="pr/$TRAVIS_PULL_REQUEST" \\
              --publish=false --watermark-title="retrain travis pull-request report"
          else
            cat reports/report.md
          fi
"""


def checklist(
    engine: Engine, ci: Ci, owner_repo: str | None, artifact: str, stages: tuple[str, ...], ingest: bool = False
) -> str:
    repo = owner_repo or "OWNER/REPO"
    ingest_step = (
        "\n7. **The scheduled ingest** (`.github/workflows/ingest.yml`). A second GitHub App, *Contents* and *Pull"
        f" requests*: read and write, installed on {repo} only; an environment `ingest` (deployment branch `develop`)"
        " holding its variable `INGEST_APP_CLIENT_ID`, its secret `INGEST_APP_PRIVATE_KEY`, and `INGEST_AWS_ROLE_ARN`:"
        " the role `retrain-ingest` (trust `ingest-role-trust.json`, `sub`"
        f" `repo:{repo}:environment:ingest`; permissions `ingest-role-permissions.json`; maximum session 2 hours)."
        " The repository variable `INGEST_LANDING` names the landing prefix (`s3://BUCKET/landing/`). To release"
        " deliveries on `develop` instead of opening a pull request, set `INGEST_RELEASE=true` and attach"
        " `release-role-ingest-permissions.json` to the release role.\n"
        if ingest
        else ""
    )
    travis_step = (
        f"\n{8 if ingest else 7}. **Travis CI.** Activate the repository on travis-ci.com and set, with *Display"
        " value in build log* off:"
        " `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (read-only keys: an IAM user with"
        f" `{AWS_DIR}/pr-role-permissions.json`) and `PR_COMMENT_TOKEN` (fine-grained, *Pull requests: write* only).\n"
        if ci in (Ci.TRAVIS, Ci.BOTH)
        else ""
    )
    return f"""\
# Day one: what `retrain init` cannot do for you

Written by `retrain init` (engine {engine.tag}, reusable workflows of {engine.repository}). In order; each step
needs the one before. Until step 4, `develop` is unprotected and releases push with `GITHUB_TOKEN`.

1. **The bucket.** Create an S3 bucket (versioning on, public access blocked), then name two DVC remotes in it,
   committed: `dvc remote add s3remote s3://BUCKET/artifact-versioning` (releases) and
   `dvc remote add s3remote-pr s3://BUCKET/pull-requests` (pull requests' results, apart from releases).
2. **The roles and policies**, as files in `{AWS_DIR}/` (replace `ACCOUNT_ID` and the bucket `dvc-exemplar`):
   an IAM OIDC provider for `token.actions.githubusercontent.com` (audience `sts.amazonaws.com`); the role
   `retrain-pull-request` (trust `pr-role-trust.json`, OIDC `sub` `repo:{repo}:pull_request`; permissions
   `pr-role-permissions.json`); the role `retrain-release` (trust `release-role-trust.json`, `sub`
   `repo:{repo}:environment:release`; permissions `release-role-permissions.json`; maximum session 3 hours);
   `bucket-policy.json` on the bucket; `contributor-permissions.json` for people who `dvc push` data.
   The `sub` is the caller's, here: a reusable workflow does not change it.
3. **The environment and variables.** *Settings → Environments*: `release`, deployment branch `develop` only, with
   the variable `AWS_ROLE_ARN` = the release role's ARN. *Settings → Secrets and variables → Actions*: the
   repository variable `AWS_ROLE_ARN` = the pull-request role's ARN (and `AWS_REGION` if not `us-east-1`).
   For promotions (`promote.yml`), one environment per stage ({", ".join(f"`{stage}`" for stage in stages)}), deployment
   branch `develop` only (required reviewers for production), each with its own role (`stage-role-trust.json`,
   `stage-role-permissions.json`, `STAGE` replaced) in its `AWS_ROLE_ARN`, and `SERVING_URL` where serving reads.
4. **The GitHub App** that pushes releases to a protected `develop` (`GITHUB_TOKEN` cannot bypass a rule):
   repository permissions *Contents* and *Pull requests*: read and write, nothing else, installed on {repo}
   only. Variable `RETRAIN_APP_CLIENT_ID` (its client id) and secret `RETRAIN_APP_PRIVATE_KEY` (its key), in the
   `release` environment.
5. **The rulesets.** A branch ruleset on `develop` (pull request required, the checks of `pr.yml` required,
   bypass: the App); a tag ruleset on `{artifact}@*` and `{artifact}#*` (GTO's release and stage tags: creations,
   updates, deletions restricted; bypass: the App).
6. **Upgrades.** The workflows pin {engine.tag} of {engine.repository}, which installs the engine of the same tag.
   Dependabot proposes the next one (`.github/dependabot.yml`): read the engine's CHANGELOG.md, then merge it.
{ingest_step}{travis_step}"""
