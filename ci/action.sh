#!/usr/bin/env bash
# The steps of the forewarn GitHub Action (action.yml) as one script, so a test can run exactly
# what the Action runs, with a simulated GitHub environment.
#
#   ci/action.sh resolve   which forewarn to use: a release (the `version` input, or the action's
#                          own ref when it is a version tag) or the action's source; where it is
#                          installed and its cache key (step outputs), and that folder on PATH
#   ci/action.sh install   install it: the release archive, checked against SHA256SUMS
#                          (scripts/install.sh), or a build from source when there is no release
#   ci/action.sh check     check the pull request against its base branch; optionally comment
#
# Read from the environment:
#   GITHUB_BASE_REF      the pull request's base branch (unset outside pull_request events)
#   GITHUB_EVENT_NAME    pull_request_target is refused (exit 2)
#   GITHUB_ACTION_PATH   the action's own checkout (its last folder is the ref it was used at)
#   GITHUB_OUTPUT, GITHUB_PATH   where step outputs and the install folder are written, when set
#   GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_REF   the pull request is read from
#                        $GITHUB_API_URL/repos/$GITHUB_REPOSITORY/pulls/<n> (n from refs/pull/<n>/…)
#   GITHUB_EVENT_PATH, GITHUB_STEP_SUMMARY   read by forewarn itself (acknowledgements in the
#                        pull-request body; the job summary)
#   INPUT_FAIL_ON, INPUT_RULES_FROM, INPUT_SARIF_FILE, INPUT_ARGS, INPUT_VERSION,
#   INPUT_GITHUB_TOKEN, INPUT_COMMENT   the inputs
#   FOREWARN_ACTION_REF, FOREWARN_ACTION_REPOSITORY   github.action_ref and .action_repository
#                        (passed by action.yml; a composite action's run steps do not get them)
#   FOREWARN_VERSION, FOREWARN_INSTALL_DIR   what resolve chose (install)
#   INPUT_RECORD         true: record the findings in the ledger and push them to
#                        refs/forewarn/ledger of origin (needs contents: write)
#   FOREWARN_BIN         a forewarn binary to use instead of installing one (tests)
#   FOREWARN_PR_NUMBER   the pull request's number, when GITHUB_REF does not hold it
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}

# A full version tag (v1.2.3, v1.2.3-rc.1) without its v; nothing for branches, SHAs or v1.
version_of_ref() {
  case "$1" in
    v[0-9]*.[0-9]*.[0-9]*)
      local v="${1#v}"
      case "$v" in *[!0-9A-Za-z.+-]*) return 0 ;; esac
      printf '%s\n' "$v"
      ;;
  esac
}

resolve() {
  local action_path="${GITHUB_ACTION_PATH:-$here}" version="" source="" repository
  # On a runner the action lives in _actions/<owner>/<name>/<ref>.
  local ref="${FOREWARN_ACTION_REF:-$(basename "$action_path")}"
  repository="${FOREWARN_ACTION_REPOSITORY:-$(basename "$(dirname "$(dirname "$action_path")")")/$(basename "$(dirname "$action_path")")}"
  if [ -n "${INPUT_VERSION:-}" ]; then
    version="${INPUT_VERSION#v}"
    source=input
  else
    version="$(version_of_ref "$ref")"
    source=ref
  fi
  local target key
  target="$(bash "$here/scripts/install.sh" target)"
  if [ -n "$version" ]; then
    key="forewarn-$version-$target"
    echo "forewarn: release v$version for $target (from the $([ "$source" = input ] && echo "version input" || echo "action ref $ref"))"
  else
    # No release named: the action's own source, keyed by its content.
    local digest
    digest="$(cd "$action_path" && find Cargo.toml Cargo.lock src rules -type f -print0 | LC_ALL=C sort -z \
      | xargs -0 cat | { sha256sum 2>/dev/null || shasum -a 256; } | cut -c 1-16)"
    key="forewarn-source-$digest-$target"
    echo "forewarn: the action ref $ref is not a version tag; forewarn is built from the action's source"
  fi
  local dir="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}/forewarn/$key"
  output version "$version"
  output version-source "$source"
  output repository "$repository"
  output target "$target"
  output key "$key"
  output dir "$dir"
  if [ -n "${GITHUB_PATH:-}" ]; then
    printf '%s\n' "$dir" >>"$GITHUB_PATH"
  fi
}

install() {
  if [ -n "${FOREWARN_BIN:-}" ]; then
    echo "forewarn: using $FOREWARN_BIN"
    return 0
  fi
  local dir="${FOREWARN_INSTALL_DIR:?is set by the resolve step}" version="${FOREWARN_VERSION:-}"
  if [ -n "$version" ]; then
    local code=0
    FOREWARN_VERSION="$version" FOREWARN_INSTALL_DIR="$dir" bash "$here/scripts/install.sh" install || code=$?
    case "$code" in
      0) return 0 ;;
      3) echo "forewarn: no release archive for v$version on this machine; building it from source instead" ;;
      *)
        echo "::error title=forewarn: download refused::The forewarn v$version release archive could not be verified (see the message above), so nothing was installed. Re-run the job; if it fails again, the release asset differs from its SHA256SUMS and should be reported."
        exit 2
        ;;
    esac
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "::error title=forewarn::No forewarn release matches, and cargo is not on PATH to build it. Use the action at a release tag (uses: <owner>/forewarn@v<version>), set version:, or add a Rust toolchain step (for example dtolnay/rust-toolchain@stable) before this action."
    exit 2
  fi
  local root
  root="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/forewarn-build.XXXXXX")"
  if [ -n "$version" ] && [ "${FOREWARN_VERSION_SOURCE:-input}" = input ]; then
    cargo install --locked --root "$root" forewarn --version "$version"
  else
    cargo install --locked --root "$root" --path "${GITHUB_ACTION_PATH:-$here}"
  fi
  mkdir -p "$dir"
  cp "$root"/bin/forewarn* "$dir/"
  rm -rf "$root"
  echo "forewarn: built $("$dir/forewarn" --version) into $dir"
}

# The counts of a JSON report's summary (forewarn's JSON is pretty-printed: the summary's fields
# are the first lines indented four spaces, before the findings).
summary_count() {
  awk -v key="\"$1\":" '/^  "findings":/ { exit } $1 == key { gsub(/[^0-9]/, "", $2); print $2; exit }' "$2"
}

# The pull request's number: refs/pull/<n>/merge on pull_request events.
pr_number() {
  if [ -n "${FOREWARN_PR_NUMBER:-}" ]; then
    printf '%s\n' "$FOREWARN_PR_NUMBER"
    return 0
  fi
  case "${GITHUB_REF:-}" in
    refs/pull/*/*)
      local n="${GITHUB_REF#refs/pull/}"
      printf '%s\n' "${n%%/*}"
      ;;
  esac
}

# Fetches the pull request as it is now (its description may have been edited since the event)
# into $1. Returns non-zero, with a warning, when it cannot; the event payload is used then.
fetch_pull_request() {
  local into="$1" number token="${INPUT_GITHUB_TOKEN:-}"
  number="$(pr_number)"
  if [ -z "$token" ] || [ -z "$number" ] || [ -z "${GITHUB_REPOSITORY:-}" ]; then
    return 1
  fi
  case "$number" in *[!0-9]*) return 1 ;; esac
  local url="${GITHUB_API_URL:-https://api.github.com}/repos/$GITHUB_REPOSITORY/pulls/$number" status
  status="$(curl -sS --retry 2 --connect-timeout 20 -o "$into" -w '%{http_code}' \
    -H "Authorization: Bearer $token" -H "Accept: application/vnd.github+json" \
    -H "X-GitHub-Api-Version: 2022-11-28" "$url")" || status="${status:-000}"
  if [ "$status" != 200 ]; then
    echo "::warning title=forewarn::Could not read pull request #$number's current description (HTTP $status from $url), so acknowledgements are read from the description as it was when this run started. Give the job pull-requests: read, or re-run it after editing the description."
    return 1
  fi
  echo "forewarn: read the current description of pull request #$number"
}

# check's state, global so the EXIT trap still sees it after check returns.
code=2
report=""
work=""

# Outputs on every path, also when forewarn could not check (then every count is 0).
finish() {
  local errors=0 warnings=0 notes=0 acknowledged=0
  if [ -n "$report" ] && [ -s "$report" ] && [ "$code" -lt 2 ]; then
    errors="$(summary_count errors "$report")"
    warnings="$(summary_count warnings "$report")"
    notes="$(summary_count notes "$report")"
    acknowledged="$(summary_count acknowledged "$report")"
  fi
  output exit-code "$code"
  output errors "${errors:-0}"
  output warnings "${warnings:-0}"
  output notes "${notes:-0}"
  output acknowledged "${acknowledged:-0}"
  if [ -n "$work" ]; then rm -rf "$work"; fi
}

check() {
  local bin="${FOREWARN_BIN:-forewarn}" markdown=""
  work="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/forewarn-check.XXXXXX")"
  trap finish EXIT

  if [ "${GITHUB_EVENT_NAME:-}" = pull_request_target ]; then
    echo "::error title=forewarn: pull_request_target::forewarn does not run on pull_request_target: that event checks out the base branch, not the pull request, so there is no change to check, and its token can write to the repository. Run it on: pull_request (for pull requests from forks, see the workflow_run recipe in forewarn's README)."
    exit 2
  fi

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
    local head_commit base_commit
    head_commit="$(git rev-parse HEAD)"
    base_commit="$(git rev-parse "$base^{commit}")"
    if [ "$head_commit" = "$base_commit" ]; then
      echo "::error title=forewarn: nothing to compare::HEAD is $base itself (${head_commit:0:12}): this checkout holds the base branch, not the pull request, so there is no change to check. Check out the pull request (actions/checkout does on pull_request events; on other events pass ref: the pull request's head)."
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
  # The counts come from a JSON report and the comment from a markdown one: the args' own when
  # they ask for them (a flag cannot be given twice), else files of our own.
  local i
  for ((i = 0; i < ${#extra[@]}; i++)); do
    case "${extra[$i]}" in
      --json-file) report="${extra[$((i + 1))]:-}" ;;
      --json-file=*) report="${extra[$i]#--json-file=}" ;;
      --markdown-file) markdown="${extra[$((i + 1))]:-}" ;;
      --markdown-file=*) markdown="${extra[$i]#--markdown-file=}" ;;
    esac
  done
  if [ -z "$report" ]; then
    report="$work/report.json"
    cmd+=(--json-file "$report")
  fi
  if [ -z "$markdown" ] && [ "${INPUT_COMMENT:-false}" = true ]; then
    markdown="$work/comment.md"
    cmd+=(--markdown-file "$markdown")
  fi
  cmd+=(${extra[@]+"${extra[@]}"})

  if fetch_pull_request "$work/pull-request.json"; then
    export FOREWARN_PULL_REQUEST_FILE="$work/pull-request.json"
  fi

  printf 'forewarn: running'
  printf ' %q' "${cmd[@]}"
  printf '\n'
  code=0
  "${cmd[@]}" || code=$?
  if [ "$code" -ge 2 ]; then
    echo "::error title=forewarn::forewarn could not check this change (exit $code); its message above says what to fix."
  elif [ "${INPUT_COMMENT:-false}" = true ]; then
    comment "$report" "$markdown"
  fi
  return "$code"
}

# One pull-request comment, edited in place; never fails the job (the annotations and summary
# carry the same findings).
comment() {
  local report="$1" markdown="$2" open=0 n number
  number="$(pr_number)"
  if [ -z "$number" ]; then
    echo "forewarn: not a pull request; no comment"
    return 0
  fi
  for n in errors warnings notes; do
    n="$(summary_count "$n" "$report")"
    open=$((open + ${n:-0}))
  done
  local mode=post
  [ "$open" -eq 0 ] && mode=resolve
  if ! GITHUB_TOKEN="${INPUT_GITHUB_TOKEN:-}" FOREWARN_PR_NUMBER="$number" \
    bash "$here/scripts/comment.sh" "$mode" "$markdown"; then
    echo "::warning title=forewarn: comment::The pull-request comment could not be written (see above); the annotations and the job summary hold the same findings."
  fi
}

case "${1:-check}" in
  resolve) resolve ;;
  install) install ;;
  check) check ;;
  *)
    echo "usage: ci/action.sh resolve|install|check" >&2
    exit 2
    ;;
esac
