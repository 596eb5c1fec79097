#!/usr/bin/env bash
# Body of the actions/setup-python stand-in (see action.yml beside this file).
set -euo pipefail

die() { echo "::error::setup-python stand-in: $*" >&2; exit 1; }

venv=${CI_STANDIN_VENV:?CI_STANDIN_VENV (the venv of the tests) is not set}
[ -x "$venv/bin/python" ] || die "no python in $venv"

# The interpreter the venv was made from (what a real setup-python would install).
read -r base version < <("$venv/bin/python" -c '
import sys
print(sys._base_executable, "%d.%d.%d" % sys.version_info[:3])')

wanted=${INPUT_PYTHON_VERSION:-}
if [ -z "$wanted" ] && [ -n "${INPUT_PYTHON_VERSION_FILE:-}" ]; then
  [ -f "$INPUT_PYTHON_VERSION_FILE" ] || die "python-version-file $INPUT_PYTHON_VERSION_FILE not found"
  wanted=$(head -n 1 "$INPUT_PYTHON_VERSION_FILE" | tr -d '[:space:]')
fi
if [ -n "$wanted" ] && [[ $version != "$wanted" && $version != "$wanted".* ]]; then
  die "Version $wanted was not found in the local cache (the stand-in has Python $version)"
fi

cache_hit=false
case "${INPUT_CACHE:-}" in
  "") ;;
  pip)
    # Like the real action: the dependency files must exist in the workspace.
    patterns=${INPUT_CACHE_DEPENDENCY_PATH:-**/requirements.txt}
    shopt -s globstar nullglob
    matched=0
    while IFS= read -r pattern; do
      [ -n "$pattern" ] || continue
      # shellcheck disable=SC2206 # the pattern is meant to glob
      files=($pattern)
      matched=$((matched + ${#files[@]}))
    done <<< "$patterns"
    shopt -u globstar nullglob
    if [ "$matched" = 0 ]; then
      die "No file in $PWD matched to [$(echo "$patterns" | paste -sd, -)], make sure you have checked out the target repository"
    fi
    cache_hit=true
    ;;
  *) die "Caching for '$INPUT_CACHE' is not supported by the stand-in" ;;
esac

tool=$RUNNER_TEMP/setup-python-standin/bin
mkdir -p "$tool"
for name in python python3 "python${version%.*}"; do
  ln -sfn "$base" "$tool/$name"
done
echo "$tool" >> "$GITHUB_PATH"

if [ "${INPUT_UPDATE_ENVIRONMENT:-true}" = true ]; then
  {
    echo "pythonLocation=${tool%/bin}"
    echo "Python_ROOT_DIR=${tool%/bin}"
    echo "Python3_ROOT_DIR=${tool%/bin}"
  } >> "$GITHUB_ENV"
fi
# The warm pip cache, offline: pip gets no index, only the wheelhouse the tests prepared
# (CI_STANDIN_PIP_FIND_LINKS: the uv wheel that requirements-uv.lock pins, hash and all).
{
  echo "PIP_NO_INDEX=1"
  echo "PIP_DISABLE_PIP_VERSION_CHECK=1"
  if [ -n "${CI_STANDIN_PIP_FIND_LINKS:-}" ]; then
    echo "PIP_FIND_LINKS=$CI_STANDIN_PIP_FIND_LINKS"
  fi
} >> "$GITHUB_ENV"

echo "setup-python stand-in: Python $version ($base)"
{
  echo "python-version=$version"
  echo "python-path=$tool/python"
  echo "cache-hit=$cache_hit"
} >> "$GITHUB_OUTPUT"
