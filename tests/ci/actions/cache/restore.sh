#!/usr/bin/env bash
# Body of the actions/cache stand-in (see action.yml beside this file).
set -euo pipefail

die() { echo "::error::$*" >&2; exit 1; }

store=${CI_STANDIN_CACHE_STORE:?CI_STANDIN_CACHE_STORE (the folder of cache entries) is not set}
key=${INPUT_KEY:-}
[ -n "$key" ] || die "Input required and not supplied: key"
# The real action's own checks on keys.
[ ${#key} -le 512 ] || die "Key Validation Error: $key cannot be larger than 512 characters."
[[ $key != *,* ]] || die "Key Validation Error: $key cannot contain commas."

paths=()
while IFS= read -r line; do
  line=${line#"${line%%[![:space:]]*}"}
  [ -n "$line" ] || continue
  # A leading ~ is the runner's home, as the real action expands it.
  if [ "${line:0:1}" = "~" ]; then
    line=$HOME${line:1}
  fi
  paths+=("$line")
done <<< "${INPUT_PATH:-}"
[ ${#paths[@]} -gt 0 ] || die "Input required and not supplied: path"
[ ${#paths[@]} -eq 1 ] || die "cache stand-in: it restores one path, got ${#paths[@]}"

matched=""
hit=""
if [ -d "$store/$key" ]; then
  matched=$key
  hit=true
else
  while IFS= read -r prefix; do
    prefix=${prefix#"${prefix%%[![:space:]]*}"}
    [ -n "$prefix" ] || continue
    # The newest entry with this prefix, as the real action picks it.
    newest=$(find "$store" -mindepth 1 -maxdepth 1 -name "$prefix*" -printf '%T@ %f\n' | sort -rn | head -n 1 | cut -d' ' -f2-)
    if [ -n "$newest" ]; then
      matched=$newest
      hit=false
      break
    fi
  done <<< "${INPUT_RESTORE_KEYS:-}"
fi

if [ -z "$matched" ]; then
  [ "${INPUT_FAIL_ON_CACHE_MISS:-false}" != true ] \
    || die "Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: $key"
  echo "Cache not found for input keys: $key"
elif [ "${INPUT_LOOKUP_ONLY:-false}" = true ]; then
  echo "Cache found and can be restored from key: $matched"
else
  target=${paths[0]}
  rm -rf "$target"
  mkdir -p "$target"
  # Hard links: an entry is large and never edited in place; a copy where links cannot cross devices.
  cp -al "$store/$matched/." "$target/" 2> /dev/null || cp -a "$store/$matched/." "$target/"
  echo "Cache restored from key: $matched"
fi

if [ -n "${CI_STANDIN_CACHE_LOG:-}" ]; then
  printf '{"key": "%s", "matched": "%s", "cache_hit": "%s", "path": "%s"}\n' \
    "$key" "$matched" "$hit" "${paths[0]}" >> "$CI_STANDIN_CACHE_LOG"
fi
echo "cache-hit=$hit" >> "$GITHUB_OUTPUT"
