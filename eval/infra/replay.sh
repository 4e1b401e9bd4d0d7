#!/usr/bin/env bash
# Replays every non-merge commit of a repository that touches deploy configuration (YAML, HCL,
# JSON) through one forewarn binary, one JSON line per finding of the deploy-configuration rules.
#
#   eval/infra/replay.sh <forewarn binary> <repository> <out.jsonl>
#
# Nothing is written into the repository (check --commit reads objects only). Each commit's
# findings go to a file of their own first: lines written by parallel jobs into one pipe could
# interleave (a finding's line can be longer than a pipe writes at once).
set -euo pipefail
bin=$(realpath "$1"); repo=$2; out=$3
rules='^(k8s-|helm-|terraform-|deploy-config-|cron-schedule-changed|ci-deploy-step-changed|gitops-prune-enabled|flux-)'
parts=$(mktemp -d)
trap 'rm -rf "$parts"' EXIT
if [ -n "${PATHSPEC:-}" ]; then set -- "$PATHSPEC"; else set -- "*.yaml" "*.yml" "*.tf" "*.json"; fi
git -C "$repo" log --no-merges -n "${LIMIT:-1500}" --format=%H -- "$@" |
  xargs -P "${JOBS:-2}" -I{} sh -c '
    cd "$1" && "$2" check --commit "$3" --format json --fail-on never 2>/dev/null |
      jq -c --arg c "$3" ".findings[] | {commit: \$c, rule: .rule_id, path, line, old_side, matched, message}" \
      > "$4/$3.jsonl" 2>/dev/null || echo "$3" >> "$4/failed"' _ "$repo" "$bin" {} "$parts"
: > "$out"
find "$parts" -name '*.jsonl' -print0 | xargs -0 cat | jq -c --arg r "$rules" 'select(.rule | test($r))' >> "$out"
if [ -s "$parts/failed" ]; then
  echo "commits forewarn could not check: $(wc -l < "$parts/failed")" >&2
fi
wc -l < "$out"
