#!/usr/bin/env bash
# Body of the actions/checkout stand-in (see action.yml beside this file).
set -euo pipefail
[ -z "${CI_STANDIN_DEBUG:-}" ] || set -x

die() { echo "::error::checkout stand-in: $*" >&2; exit 1; }

root=${CI_STANDIN_GIT_ROOT:?CI_STANDIN_GIT_ROOT (the folder standing in for the GitHub server) is not set}
server=${INPUT_GITHUB_SERVER_URL:-${GITHUB_SERVER_URL:-https://github.com}}
server=${server%/}
repository=${INPUT_REPOSITORY:?repository input is empty}
depth=${INPUT_FETCH_DEPTH:-1}
[[ $depth =~ ^[0-9]+$ ]] || die "fetch-depth must be a number, got '$depth'"
[ "${INPUT_LFS:-false}" = false ] || die "lfs is not supported offline"
[ "${INPUT_SUBMODULES:-false}" = false ] || die "submodules are not supported offline"
[ -z "${INPUT_SPARSE_CHECKOUT:-}" ] || die "sparse-checkout is not supported offline"

dest=$GITHUB_WORKSPACE
if [ -n "${INPUT_PATH:-}" ]; then
  dest=$GITHUB_WORKSPACE/$INPUT_PATH
fi
mkdir -p "$dest"
cd "$dest"
if [ "${INPUT_CLEAN:-true}" = true ] && [ -n "$(ls -A)" ]; then
  find . -mindepth 1 -maxdepth 1 -exec rm -rf {} +
fi

# Which ref and commit: the real action's rules. No `ref` input: the event's GITHUB_REF
# at GITHUB_SHA. A 40-hex `ref`: that commit, detached. Otherwise a branch or tag name.
ref=${INPUT_REF:-}
sha=
if [ -z "$ref" ]; then
  ref=${GITHUB_REF:?}
  sha=${GITHUB_SHA:?}
fi

git init -q
git config "url.$root/.insteadOf" "$server/"
if [ "${INPUT_PERSIST_CREDENTIALS:-true}" = true ]; then
  # Where the real action stores the token (an http extraheader); pushes are made with it.
  [ -n "${INPUT_TOKEN:-}" ] || die "Input required and not supplied: token"
  basic=$(printf 'x-access-token:%s' "$INPUT_TOKEN" | base64 | tr -d '\n')
  git config "http.$server/.extraheader" "AUTHORIZATION: basic $basic"
else
  # No credentials kept: like GitHub, pushing from this clone fails.
  git config "url.$root/persist-credentials-is-false/.pushInsteadOf" "$server/"
fi
git remote add origin "$server/$repository"
if [ "${INPUT_PERSIST_CREDENTIALS:-true}" = true ] && [ -n "${CI_STANDIN_FORGE_RECEIVE_PACK:-}" ]; then
  # The forge model's server side: it authenticates pushes by the header above (see tests/ci/forge.py).
  git config remote.origin.receivepack "$CI_STANDIN_FORGE_RECEIVE_PACK"
fi

fetch=(git -c protocol.version=2 fetch --prune --no-recurse-submodules --quiet)
if [ "$depth" = 0 ]; then
  "${fetch[@]}" origin '+refs/heads/*:refs/remotes/origin/*' '+refs/tags/*:refs/tags/*'
else
  fetch+=("--depth=$depth")
  if [ "${INPUT_FETCH_TAGS:-false}" != true ]; then
    fetch+=(--no-tags)
  fi
fi

checkout_ref=
case "$ref" in
  refs/heads/*)
    branch=${ref#refs/heads/}
    "${fetch[@]}" origin "+${sha:-$ref}:refs/remotes/origin/$branch"
    git checkout --quiet --force -B "$branch" "refs/remotes/origin/$branch"
    checkout_ref=$ref
    ;;
  refs/pull/*)
    local_ref=refs/remotes/pull/${ref#refs/pull/}
    "${fetch[@]}" origin "+${sha:-$ref}:$local_ref"
    git checkout --quiet --force --detach "$local_ref"
    checkout_ref=$ref
    ;;
  refs/tags/*)
    "${fetch[@]}" origin "+${sha:-$ref}:$ref"
    git checkout --quiet --force --detach "$ref"
    checkout_ref=$ref
    ;;
  *)
    if [[ $ref =~ ^[0-9a-fA-F]{40}$ ]]; then
      "${fetch[@]}" origin "$ref"
      git checkout --quiet --force --detach "$ref"
      checkout_ref=$ref
    elif git ls-remote --exit-code --heads origin "$ref" > /dev/null; then
      "${fetch[@]}" origin "+refs/heads/$ref:refs/remotes/origin/$ref"
      git checkout --quiet --force -B "$ref" "refs/remotes/origin/$ref"
      checkout_ref=refs/heads/$ref
    elif git ls-remote --exit-code --tags origin "$ref" > /dev/null; then
      "${fetch[@]}" origin "+refs/tags/$ref:refs/tags/$ref"
      git checkout --quiet --force --detach "refs/tags/$ref"
      checkout_ref=refs/tags/$ref
    else
      die "A branch or tag with the name '$ref' could not be found"
    fi
    ;;
esac

if [ -n "$sha" ] && [ "$(git rev-parse HEAD)" != "$sha" ]; then
  die "checked out $(git rev-parse HEAD), expected $sha"
fi
commit=$(git rev-parse HEAD)
echo "checkout stand-in: $server/$repository $checkout_ref at $commit (fetch-depth $depth)"
{
  echo "ref=$checkout_ref"
  echo "commit=$commit"
} >> "$GITHUB_OUTPUT"
