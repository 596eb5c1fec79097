#!/usr/bin/env bash
# Resolve the human-edited requirements*.txt into hash-locked requirements*.lock with uv.
#   scripts/lock.sh           rewrite the locks (pins already in a lock are kept while they still fit;
#                             LOCK_ARGS=--upgrade, or --upgrade-package NAME, moves them)
#   scripts/lock.sh --check   rewrite nothing; exit 1 when a lock no longer matches its requirements
# `make lock` and `make lint` run it with the venv's uv (UV=.venv/bin/uv).
set -euo pipefail

uv=${UV:-uv}
check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  *) echo "usage: scripts/lock.sh [--check]" >&2; exit 2 ;;
esac

# One universal resolution for Python 3.11 (CI's and the release's), valid on every OS, so the
# result depends only on the requirements and the pins already in the lock, not on this machine.
compile() { # requirements output [extra uv args...]
  local requirements=$1 output=$2
  shift 2
  # shellcheck disable=SC2086 # LOCK_ARGS is a list of options on purpose
  "$uv" pip compile --quiet --universal --python-version 3.11 --generate-hashes \
    --custom-compile-command "make lock" ${LOCK_ARGS:-} "$@" "$requirements" --output-file "$output"
}

# Requirements, lock and extra arguments, in order: the dev lock is constrained to the runtime
# lock's pins, so the tests run exactly the versions that the release installs.
pairs=(
  "requirements-uv.txt requirements-uv.lock"
  "requirements.txt requirements.lock"
  "requirements-dev.txt requirements-dev.lock --constraints requirements.lock"
)

if [ "$check" = false ]; then
  for pair in "${pairs[@]}"; do
    read -r requirements lock extra <<< "$pair"
    # shellcheck disable=SC2086 # $extra holds zero or more arguments
    compile "$requirements" "$lock" $extra || { echo "make lock: could not resolve $requirements (see uv's message above)" >&2; exit 1; }
    echo "wrote $lock"
  done
  exit 0
fi

# The check re-resolves into copies of the locks (uv keeps their pins) and compares packages,
# versions and markers, not hashes: a wheel uploaded later for a locked version changes no pin.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
pins() { sed -e '/^ *--hash=/d' -e 's/ *\\$//' "$1"; }
for pair in "${pairs[@]}"; do
  read -r requirements lock extra <<< "$pair"
  if [ ! -f "$lock" ]; then
    echo "missing lock: $lock; run \`make lock\` and commit the result" >&2
    exit 1
  fi
  cp "$lock" "$scratch/$lock"
  # shellcheck disable=SC2086 # $extra holds zero or more arguments
  # From uv's cache first (fast, and works without the network); the index only when the cache
  # lacks something, e.g. a version the requirements name for the first time.
  compile "$requirements" "$scratch/$lock" $extra --offline 2> /dev/null \
    || compile "$requirements" "$scratch/$lock" $extra || { echo "lock check: could not resolve $requirements (see uv's message above)" >&2; exit 1; }
  # The next lock is resolved against this one: stop at the first that is stale.
  if ! diff -u --label "$lock (committed)" --label "$lock (from $requirements)" <(pins "$lock") <(pins "$scratch/$lock") >&2; then
    echo "stale lock: $lock does not match $requirements; run \`make lock\` and commit the result" >&2
    exit 1
  fi
done
echo "locks match requirements-uv.txt, requirements.txt and requirements-dev.txt"
