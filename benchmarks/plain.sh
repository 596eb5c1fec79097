#!/usr/bin/env bash
# The peer of `retrain run --push`: the commands DVC's and CML's CI examples run for a new batch, in the clone's
# root, the release tag given. Each command's seconds go to stderr as `[step] COMMAND: S.SSSs` (bash's clock: no
# process is started to time them).
set -euo pipefail
tag=$1

timed() {
  local began=${EPOCHREALTIME/./}
  "$@"
  local took=$((${EPOCHREALTIME/./} - began))
  printf '[step] %s: %d.%03ds\n' "$*" $((took / 1000000)) $((took % 1000000 / 1000)) >&2
}

timed dvc pull
timed dvc repro
timed dvc push
timed git add dvc.lock metrics
timed git commit --quiet -m "Retrain on the new data"
timed git tag -a "$tag" -m "Release $tag"
timed git push --quiet origin HEAD "$tag"
