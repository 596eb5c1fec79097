"""`retrain`: a thin command line over the release engine. Exit codes: 0 ok, 1 failure, 2 bad input, 3 gated."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from importlib.metadata import version
from pathlib import Path

from retrain.errors import EXIT_FAILURE, EXIT_OK, RetrainError
from retrain.layout import ERROR_LOG, REPORT

REMOTE_ENV = "RETRAIN_REMOTE"
CI_REMOTE = "s3remote"  # the remote the CI files use (RETRAIN_REMOTE in .github/workflows and .travis.yml)
PUSH_TO_ENV = "RETRAIN_PUSH_TO"  # pull-request builds: where they upload (s3remote-pr), apart from the release remote
TRUST_ENV = "RETRAIN_TRUST_RUNS_FROM"  # opt-in: the merge build also restores from this remote's run-cache


def _remote_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--remote",
        default=os.environ.get(REMOTE_ENV),
        help=f"DVC remote to use (default: ${REMOTE_ENV}, else .dvc/config's default `local`)",
    )


def _env_remote_arg(parser: argparse.ArgumentParser, flag: str, env: str, text: str) -> None:
    parser.add_argument(flag, metavar="REMOTE", default=os.environ.get(env) or None, help=text)


class _Version(argparse.Action):
    """The installed distribution's version (pyproject.toml's), the one a CI pin or a bug report names. Read only
    when asked: a metadata lookup on every command's start-up would be wasted."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help=str(kwargs.get("help")))

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"{parser.prog} {version('retrain')}")  # on stdout, as argparse's own `version` action prints it
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="retrain", description=__doc__)
    parser.add_argument("--version", action=_Version, help="print the installed version of retrain and exit")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="reproduce, push, verify, commit, gate and tag a release")
    _remote_arg(run)
    run.add_argument("--push", action="store_true", help="push the commit and tag to origin")
    run.add_argument("--force", action="store_true", help="recompute every stage (ignore the run-cache)")
    run.add_argument("--dry-run", action="store_true", help="reproduce, verify and gate; commit and tag nothing")
    run.add_argument("--note", help="free text recorded in the tag message")
    run.add_argument("--major", action="store_true", help="bump the major version")
    _env_remote_arg(
        run,
        "--trust-runs-from",
        TRUST_ENV,
        "opt-in: also restore stages from this remote's run-cache (what pull requests computed; trusts everyone who "
        f"can push a branch, see docs/ci.md; default: ${TRUST_ENV})",
    )

    report = commands.add_parser("report", help="the pull-request report against a base ref")
    _remote_arg(report)
    report.add_argument("--base", required=True, help="ref to compare with, e.g. origin/develop")
    report.add_argument("--output", type=Path, default=REPORT)
    report.add_argument("--reproduce", action="store_true", help="pull, reproduce and push the run-cache first")
    _env_remote_arg(
        report,
        "--push-to",
        PUSH_TO_ENV,
        "upload what the reproduction computed to this remote (the pull requests' own) and nothing to --remote "
        f"(default: ${PUSH_TO_ENV}, else --remote)",
    )

    releases = commands.add_parser("releases", help="every release, newest first")
    releases.add_argument("--json", action="store_true")

    restore = commands.add_parser("restore", help="bring back a release whole, or only its data or model")
    _remote_arg(restore)
    restore.add_argument("tag")
    restore.add_argument("--only", choices=("data", "model"))

    promote = commands.add_parser("promote", help="assign a stage (e.g. prod) to a release, pushed to origin")
    _remote_arg(promote)
    promote.add_argument("version", help="the release, e.g. v1.3.0 or model@v1.3.0")
    promote.add_argument("--stage", required=True, help="one of the stages .gto allows")
    promote.add_argument("--note", help="why: free text recorded in the stage tag")

    rollback = commands.add_parser("rollback", help="give a stage back to the version that held it before")
    _remote_arg(rollback)
    rollback.add_argument("--stage", required=True)
    rollback.add_argument("--note", help="why: free text recorded in the stage tag")

    which = commands.add_parser("which", help="the version a stage holds (as `gto show model#STAGE`)")
    which.add_argument("--stage", required=True)
    which.add_argument("--json", action="store_true")

    publish = commands.add_parser("publish", help="copy a stage's model and model card to where serving reads")
    _remote_arg(publish)
    publish.add_argument("--stage", required=True)
    publish.add_argument("--to", required=True, help="serving root, e.g. s3://BUCKET/serving (STAGE/ is added)")

    announce = commands.add_parser(
        "announce",
        help="after `retrain run` in CI: print where its report goes (pr/N for each pull request merged since the "
        "previous release, else commit/SHA), and add the list to the report",
    )
    announce.add_argument("--into", default="develop", help="the branch the pull requests were merged into")
    announce.add_argument("--report", type=Path, default=REPORT, help="the report to add the list to")
    announce.add_argument("--repo", help="OWNER/NAME on GitHub (default: $GITHUB_REPOSITORY, else $TRAVIS_REPO_SLUG)")

    remote = commands.add_parser("remote", help="the DVC remote CI uses")
    remote_commands = remote.add_subparsers(dest="remote_command", required=True)
    bucket = remote_commands.add_parser(
        "set-bucket", help="point the CI remote at s3://BUCKET/PREFIX in .dvc/config and commit it (day one)"
    )
    bucket.add_argument("url", help="s3://BUCKET/PREFIX")
    bucket.add_argument("--name", default=CI_REMOTE, help=f"the DVC remote to change (default: {CI_REMOTE})")

    ingest = commands.add_parser("ingest", help="new deliveries from a landing prefix or folder become raw batches")
    _remote_arg(ingest)
    ingest.add_argument("source", help="the landing: s3://bucket/prefix/ (the DVC remote's S3 settings) or a folder")
    ingest.add_argument(
        "--release", action="store_true", help="commit on the current branch and release (else: an ingest/ branch)"
    )
    pushing = ingest.add_mutually_exclusive_group()
    pushing.add_argument("--push", action="store_true", help="push the branch (and the release) to origin")
    pushing.add_argument(
        "--hold",
        action="store_true",
        help="all of --push but the git push (a release: as a dry run); --resume pushes it later",
    )
    pushing.add_argument(
        "--resume",
        action="store_true",
        help="push (and release) what a --hold run committed, with its report; lists nothing new",
    )
    ingest.add_argument(
        "--rescan", action="store_true", help="list the whole landing, not only the keys after the last recorded one"
    )

    commands.add_parser("setup", help="register DVC's git merge driver and post-checkout hook in this clone")

    migrate = commands.add_parser("migrate-data", help="one .dvc file per batch instead of one for the folder")
    _remote_arg(migrate)
    return parser


def dispatch(args: argparse.Namespace) -> int:
    from retrain import gitops

    root = gitops.toplevel(Path.cwd())
    os.chdir(root)  # DVC stage commands use paths relative to the repository root
    if args.command == "run":
        from retrain.release import RunOptions, run

        run_options = RunOptions(
            remote=args.remote,
            push=args.push,
            force=args.force,
            dry_run=args.dry_run,
            note=args.note,
            major=args.major,
            trust_runs_from=args.trust_runs_from,
        )
        result = run(root, run_options)
        print(result.message)
    elif args.command == "report":
        from retrain.pull_request import pr_report

        print(f"report: {pr_report(root, args.base, args.output, args.reproduce, args.remote, args.push_to)}")
    elif args.command == "releases":
        from retrain.snapshots import list_releases, releases_json, releases_table

        found = list_releases(root)
        print(releases_json(found) if args.json else releases_table(found))
    elif args.command == "restore":
        from retrain.snapshots import restore

        print(restore(root, args.tag, args.only, args.remote))
    elif args.command in ("promote", "rollback", "which"):
        _stages(root, args)
    elif args.command == "publish":
        from retrain.serving import publish

        print(publish(root, args.stage, args.to, args.remote))
    elif args.command == "migrate-data":
        from retrain.migrate import migrate

        print(migrate(root, args.remote))
    elif args.command == "announce":
        from retrain.forge import announce

        made = announce(root, args.into, args.report, os.environ, args.repo)
        for target in made.targets if made else []:
            print(target)
    elif args.command == "remote":
        from retrain.remotes import set_bucket

        print(set_bucket(root, args.name, args.url))
    elif args.command == "ingest":
        from retrain.ingest.run import IngestOptions, ingest_command

        ingest_options = IngestOptions(
            source=args.source,
            remote=args.remote,
            push=args.push,
            release=args.release,
            rescan=args.rescan,
            hold=args.hold,
            resume=args.resume,
        )
        return ingest_command(root, ingest_options)
    elif args.command == "setup":
        gitops.configure(root, str(Path(sys.executable).parent / "dvc"))
        print("setup: DVC merge driver and post-checkout hook registered")
    return EXIT_OK


def _stages(root: Path, args: argparse.Namespace) -> None:
    from retrain import promotion

    if args.command == "promote":
        print(promotion.promote(root, args.version, args.stage, args.note, args.remote))
    elif args.command == "rollback":
        print(promotion.rollback(root, args.stage, args.note, args.remote))
    else:
        release, held = promotion.which(root, args.stage)
        print(json.dumps(promotion.which_json(release, held), indent=2) if args.json else held.version)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return dispatch(args)
    except RetrainError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; re-run to finish: nothing half-made was pushed.", file=sys.stderr)
        return 130
    except Exception as error:  # a bug or an unforeseen failure: one line for the user, the traceback in a file
        return _unexpected(error)


def _unexpected(error: Exception) -> int:
    log = Path.cwd() / ERROR_LOG  # dispatch() moved to the repository root before anything could fail here
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("".join(traceback.format_exception(error)))
        where = f"the traceback is in {ERROR_LOG}"
    except OSError:
        where = "the traceback could not be saved"
    reason = str(error).splitlines()[0] if str(error) else ""
    print(f"error: unexpected {type(error).__name__}: {reason} ({where}; please report it).", file=sys.stderr)
    return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
