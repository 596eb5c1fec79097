#!/usr/bin/env bash
# Body of the actions/upload-artifact stand-in (see action.yml beside this file).
set -euo pipefail
store=${CI_STANDIN_ARTIFACTS:?CI_STANDIN_ARTIFACTS is not set}
target="$store/$INPUT_NAME"
if [ -e "$target" ] && [ "$INPUT_OVERWRITE" != true ]; then
  echo "::error::Failed to CreateArtifact: an artifact with this name already exists on the workflow run" >&2
  exit 1
fi
shopt -s nullglob
files=()
while IFS= read -r pattern; do
  [ -n "$pattern" ] || continue
  # shellcheck disable=SC2206 # the pattern is a glob, as the real action's
  matched=($pattern)
  files+=("${matched[@]}")
done <<< "$INPUT_PATH"
if [ ${#files[@]} -eq 0 ]; then
  message="No files were found with the provided path: $INPUT_PATH. No artifacts will be uploaded."
  case "$INPUT_IF_NO_FILES_FOUND" in
    error) echo "::error::$message" >&2; exit 1 ;;
    ignore) echo "$message" ;;
    *) echo "::warning::$message" ;;
  esac
  exit 0
fi
rm -rf "$target"
mkdir -p "$target"
cp "${files[@]}" "$target/"
digest=$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)
{
  echo "artifact-id=1"
  echo "artifact-url=$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID/artifacts/1"
  echo "artifact-digest=$digest"
} >> "$GITHUB_OUTPUT"
echo "upload-artifact stand-in: ${#files[@]} file(s) as $INPUT_NAME"
