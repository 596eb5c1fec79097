#!/usr/bin/env bash
# Body of the aws-actions/configure-aws-credentials stand-in (see action.yml beside this file).
set -euo pipefail

die() { echo "::error::$*" >&2; exit 1; }

region=${INPUT_AWS_REGION:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}
[[ $region =~ ^[a-z]{2}(-gov)?-[a-z]+-[0-9]+$ ]] || die "Region is not valid: '$region'"

role=${INPUT_ROLE_TO_ASSUME:-}
key=${INPUT_AWS_ACCESS_KEY_ID:-}
secret=${INPUT_AWS_SECRET_ACCESS_KEY:-}
token=${INPUT_AWS_SESSION_TOKEN:-}
account=123456789012

if [ -n "$key" ] && [ -z "$secret" ]; then
  die "'aws-secret-access-key' must be provided if 'aws-access-key-id' is provided"
fi
if [ -n "$role" ]; then
  if [[ $role =~ ^arn:aws[a-z-]*:iam::([0-9]{12}):role/.+$ ]]; then
    account=${BASH_REMATCH[1]}
  elif [[ $role =~ ^[0-9]{12}$ ]] || [[ $role =~ ^[A-Za-z0-9+=,.@_-]+$ ]]; then
    : # an account-relative role name; the real action builds the ARN
  else
    die "Could not assume role with OIDC: invalid role ARN '$role'"
  fi
fi

if [ -n "$key" ]; then
  mode="access keys"
  if [ -n "$role" ]; then
    mode="access keys, then sts:AssumeRole $role"
    key=${CI_STANDIN_AWS_ACCESS_KEY_ID:-$key}
    secret=${CI_STANDIN_AWS_SECRET_ACCESS_KEY:-$secret}
    token=standin-session-token
  fi
elif [ -n "$role" ] && [ "${INPUT_FORCE_SKIP_OIDC:-}" != true ]; then
  mode="OIDC, sts:AssumeRoleWithWebIdentity $role (session ${INPUT_ROLE_SESSION_NAME:-GitHubActions})"
  key=${CI_STANDIN_AWS_ACCESS_KEY_ID:?CI_STANDIN_AWS_ACCESS_KEY_ID is not set}
  secret=${CI_STANDIN_AWS_SECRET_ACCESS_KEY:?CI_STANDIN_AWS_SECRET_ACCESS_KEY is not set}
  token=standin-oidc-session-token
elif [ "${INPUT_USE_EXISTING_CREDENTIALS:-}" = true ] && [ -n "${AWS_ACCESS_KEY_ID:-}" ]; then
  mode="existing credentials"
  key=$AWS_ACCESS_KEY_ID
  secret=${AWS_SECRET_ACCESS_KEY:-}
  token=${AWS_SESSION_TOKEN:-}
else
  die "Credentials could not be loaded, please check your action inputs: Could not load credentials from any providers"
fi

if [ -n "${INPUT_ALLOWED_ACCOUNT_IDS:-}" ] && [[ ",${INPUT_ALLOWED_ACCOUNT_IDS// /}," != *",$account,"* ]]; then
  die "The account ID of the provided credentials ($account) is not in 'allowed-account-ids'"
fi

echo "::add-mask::$secret"
[ -z "$token" ] || echo "::add-mask::$token"
if [ "${INPUT_MASK_AWS_ACCOUNT_ID:-}" = true ]; then
  echo "::add-mask::$account"
fi

if [ "${INPUT_OUTPUT_ENV_CREDENTIALS:-true}" != false ]; then
  {
    echo "AWS_ACCESS_KEY_ID=$key"
    echo "AWS_SECRET_ACCESS_KEY=$secret"
    if [ -n "$token" ]; then
      echo "AWS_SESSION_TOKEN=$token"
    fi
  } >> "$GITHUB_ENV"
fi
{
  echo "AWS_REGION=$region"
  echo "AWS_DEFAULT_REGION=$region"
  # The test's S3 server, and the checksum settings moto needs with botocore >= 1.36.
  if [ -n "${CI_STANDIN_AWS_ENDPOINT_URL:-}" ]; then
    echo "AWS_ENDPOINT_URL=$CI_STANDIN_AWS_ENDPOINT_URL"
    echo "AWS_REQUEST_CHECKSUM_CALCULATION=when_required"
    echo "AWS_RESPONSE_CHECKSUM_VALIDATION=when_required"
  fi
} >> "$GITHUB_ENV"

{
  echo "aws-account-id=$account"
  if [ "${INPUT_OUTPUT_CREDENTIALS:-}" = true ]; then
    echo "aws-access-key-id=$key"
    echo "aws-secret-access-key=$secret"
    echo "aws-session-token=$token"
    echo "aws-expiration=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"
  fi
} >> "$GITHUB_OUTPUT"
echo "configure-aws-credentials stand-in: $mode, region $region, endpoint ${CI_STANDIN_AWS_ENDPOINT_URL:-AWS}"
