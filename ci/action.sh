#!/usr/bin/env bash
# The steps of the forewarn GitHub Action (action.yml) as one script, so a test can run exactly
# what the Action runs, with a simulated GitHub environment.
#
#   ci/action.sh install   build forewarn from the action's own source, or install INPUT_VERSION
#   ci/action.sh check     check the pull request against its base branch
#
# Read from the environment:
#   GITHUB_BASE_REF      the pull request's base branch (unset outside pull_request events)
#   GITHUB_ACTION_PATH   the action's own checkout (install builds it)
#   GITHUB_OUTPUT        where `exit-code` is written, when set
#   GITHUB_EVENT_PATH, GITHUB_STEP_SUMMARY   read by forewarn itself (acknowledgements in the
#                        pull-request body; the job summary)
#   INPUT_FAIL_ON, INPUT_RULES_FROM, INPUT_SARIF_FILE, INPUT_ARGS, INPUT_VERSION, INPUT_RECORD
#                        the inputs (INPUT_RECORD=true: record the findings in the ledger and
#                        push them to refs/forewarn/ledger of origin; needs contents: write)
#   FOREWARN_BIN         a forewarn binary to use instead of installing one (tests)
set -euo pipefail

install() {
  if [ -n "${FOREWARN_BIN:-}" ]; then
    echo "forewarn: using $FOREWARN_BIN"
    return 0
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "::error title=forewarn::cargo is not on PATH. Add a Rust toolchain step (for example dtolnay/rust-toolchain@stable) before this action."
    exit 2
  fi
  if [ -n "${INPUT_VERSION:-}" ]; then
    cargo install --locked forewarn --version "$INPUT_VERSION"
  else
    cargo install --locked --path "${GITHUB_ACTION_PATH:?is set by the runner for composite actions}"
  fi
}

check() {
  local bin="${FOREWARN_BIN:-forewarn}"
  local -a cmd=("$bin" check --format github --fail-on "${INPUT_FAIL_ON:-error}")
  local rules_from="${INPUT_RULES_FROM:-}"

  if [ -n "${GITHUB_BASE_REF:-}" ]; then
    local base="origin/$GITHUB_BASE_REF"
    if ! git rev-parse -q --verify "$base^{commit}" >/dev/null 2>&1; then
      if [ "$(git rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then
        echo "::error title=forewarn: shallow checkout::This checkout is shallow and does not have $base, so the pull request cannot be compared with its base. Set fetch-depth: 0 on actions/checkout (or run git fetch --unshallow origin $GITHUB_BASE_REF)."
      else
        echo "::error title=forewarn: base branch missing::$base is not in this checkout. Set fetch-depth: 0 on actions/checkout, or run git fetch origin $GITHUB_BASE_REF before this step."
      fi
      exit 2
    fi
    cmd+=(--base "$base" --head HEAD)
    # The base branch's rules and config: a pull request cannot loosen its own gate.
    rules_from="${rules_from:-$base}"
  else
    echo "forewarn: GITHUB_BASE_REF is not set (not a pull_request event); checking the last commit"
    cmd+=(--commit HEAD)
  fi
  if [ -n "$rules_from" ]; then
    cmd+=(--rules-from "$rules_from")
  fi
  if [ -n "${INPUT_SARIF_FILE:-}" ]; then
    cmd+=(--sarif-file "$INPUT_SARIF_FILE")
  fi
  if [ "${INPUT_RECORD:-false}" = true ]; then
    cmd+=(--record --push)
  fi
  # Split on whitespace only: no globbing, no quotes, no command substitution.
  local -a extra=()
  read -r -a extra <<<"${INPUT_ARGS:-}" || true
  cmd+=(${extra[@]+"${extra[@]}"})

  printf 'forewarn: running'
  printf ' %q' "${cmd[@]}"
  printf '\n'
  local code=0
  "${cmd[@]}" || code=$?
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "exit-code=$code" >>"$GITHUB_OUTPUT"
  fi
  if [ "$code" -ge 2 ]; then
    echo "::error title=forewarn::forewarn could not check this change (exit $code); its message above says what to fix."
  fi
  return "$code"
}

case "${1:-check}" in
  install) install ;;
  check) check ;;
  *)
    echo "usage: ci/action.sh install|check" >&2
    exit 2
    ;;
esac
