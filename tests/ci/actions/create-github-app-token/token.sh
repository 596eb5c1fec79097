#!/usr/bin/env bash
# Body of the actions/create-github-app-token stand-in (see action.yml beside this file).
set -euo pipefail

die() { echo "::error::create-github-app-token stand-in: $*" >&2; exit 1; }

# The real action: an app identifier (client-id, or the deprecated app-id) and the private key are required.
[ -n "${INPUT_CLIENT_ID:-}${INPUT_APP_ID:-}" ] || die "Input required and not supplied: client-id"
[ -n "${INPUT_PRIVATE_KEY:-}" ] || die "Input required and not supplied: private-key"

asked="{}"
while IFS='=' read -r name value; do
  [ -n "$value" ] || continue
  case "$value" in
    read | write | admin) ;;
    *) die "${name#INPUT_}: permission level must be read, write or admin, got '$value'" ;;
  esac
  permission=$(printf '%s' "${name#INPUT_PERMISSION_}" | tr 'A-Z_' 'a-z-')
  asked=$(jq -c --arg k "$permission" --arg v "$value" '. + {($k): $v}' <<< "$asked")
done < <(env | grep '^INPUT_PERMISSION_' | sort)

token=${CI_STANDIN_APP_TOKEN:-ghs_standinapptoken0000000000000000000}
slug=${CI_STANDIN_APP_SLUG:-retrain-ingest}
echo "::add-mask::$token"
{
  echo "token=$token"
  echo "installation-id=1"
  echo "app-slug=$slug"
} >> "$GITHUB_OUTPUT"
if [ -n "${CI_STANDIN_APP_LOG:-}" ]; then
  jq -cn --argjson permissions "$asked" --arg owner "${INPUT_OWNER:-}" --arg repositories "${INPUT_REPOSITORIES:-}" \
    '{permissions: $permissions, owner: $owner, repositories: $repositories}' >> "$CI_STANDIN_APP_LOG"
fi
echo "create-github-app-token stand-in: token for $slug with $asked"
