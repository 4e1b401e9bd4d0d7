#!/usr/bin/env bash
# One forewarn comment per pull request, edited in place on every push.
#
#   scripts/comment.sh post FILE   write FILE (forewarn's --markdown-file report) into the pull
#                                  request's forewarn comment: edit it if there is one, else add it
#   scripts/comment.sh resolve     nothing is left to answer: edit an earlier forewarn comment to
#                                  say so (and add none when there is none)
#
# forewarn's comment is the one whose body starts with the hidden marker <!-- forewarn -->.
# Should there be several (two runs at once), the first is kept and the others deleted.
#
# Read from the environment:
#   GITHUB_TOKEN              a token that may write pull-request comments (required)
#   GITHUB_REPOSITORY         owner/name (required)
#   FOREWARN_PR_NUMBER        the pull request's number (required)
#   GITHUB_API_URL            the REST API (default https://api.github.com; set by Actions)
#   FOREWARN_EXPECT_HEAD_SHA  when set, comment only if the pull request's head is this commit:
#                             the workflow_run recipe passes the commit that was checked, so a
#                             report cannot be posted onto another pull request
#
# Needs curl and jq. Exit 0 when done, 1 when the API refused (the message says why), 2 on
# usage errors.
set -eu

MARKER='<!-- forewarn -->'

say() { printf 'forewarn comment: %s\n' "$*" >&2; }

api_base="${GITHUB_API_URL:-https://api.github.com}"
api_base="${api_base%/}"
mode="${1:-}"
case "$mode" in
  post | resolve) ;;
  *)
    say "usage: scripts/comment.sh post FILE | resolve"
    exit 2
    ;;
esac
for tool in curl jq; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "$tool is not installed; the comment needs curl and jq"
    exit 2
  fi
done
: "${GITHUB_TOKEN:?must hold a token that can write pull-request comments}"
: "${GITHUB_REPOSITORY:?must name the repository, owner/name}"
number="${FOREWARN_PR_NUMBER:?must hold the pull request number}"
case "$number" in
  '' | *[!0-9]*)
    say "\"$number\" is not a pull request number"
    exit 2
    ;;
esac
case "$GITHUB_REPOSITORY" in
  */* ) ;;
  *)
    say "GITHUB_REPOSITORY \"$GITHUB_REPOSITORY\" is not owner/name"
    exit 2
    ;;
esac
repo_url="$api_base/repos/$GITHUB_REPOSITORY"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/forewarn-comment.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# api METHOD URL [BODY-FILE]: the answer in $tmp/answer; fails with the status on anything but 2xx.
api() {
  local method="$1" url="$2" data="${3:-}" status
  local -a args=(-sS --retry 2 --connect-timeout 20 -X "$method" -o "$tmp/answer" -w '%{http_code}'
    -H "Authorization: Bearer $GITHUB_TOKEN" -H "Accept: application/vnd.github+json"
    -H "X-GitHub-Api-Version: 2022-11-28" -H "Expect:")
  if [ -n "$data" ]; then
    args+=(-H "Content-Type: application/json" --data-binary "@$data")
  fi
  status="$(curl "${args[@]}" "$url")" || status="${status:-000}"
  case "$status" in
    2??) return 0 ;;
    401 | 403 | 404)
      say "$method $url answered HTTP $status: the token cannot do this. The job needs permissions: pull-requests: write (on a pull request from a fork the token is read-only: use the workflow_run recipe in forewarn's README)."
      ;;
    *) say "$method $url answered HTTP $status" ;;
  esac
  return 1
}

if [ -n "${FOREWARN_EXPECT_HEAD_SHA:-}" ]; then
  api GET "$repo_url/pulls/$number"
  head="$(jq -r '.head.sha // empty' "$tmp/answer")"
  if [ "$head" != "$FOREWARN_EXPECT_HEAD_SHA" ]; then
    say "pull request #$number's head is ${head:-unknown}, not the checked commit $FOREWARN_EXPECT_HEAD_SHA; not commenting (the report belongs to another pull request or an older push)"
    exit 1
  fi
fi

# The ids of forewarn's comments, oldest first, over every page.
: >"$tmp/ids"
page=1
while :; do
  api GET "$repo_url/issues/$number/comments?per_page=100&page=$page"
  jq -r --arg m "$MARKER" '.[] | select((.body // "") | startswith($m)) | .id' "$tmp/answer" >>"$tmp/ids"
  [ "$(jq 'length' "$tmp/answer")" -lt 100 ] && break
  page=$((page + 1))
done
first="$(head -n 1 "$tmp/ids")"

case "$mode" in
  post)
    file="${2:?names the markdown report to post}"
    {
      # The marker first, whatever the report starts with: it is how the comment is found again.
      if [ "$(head -c ${#MARKER} "$file")" != "$MARKER" ]; then
        printf '%s\n' "$MARKER"
      fi
      cat "$file"
    } | jq -Rs '{body: .}' >"$tmp/body.json"
    ;;
  resolve)
    if [ -z "$first" ]; then
      say "nothing to answer and no earlier comment: nothing to do"
      exit 0
    fi
    printf '%s\n**forewarn**: nothing is left to answer in this pull request: every earlier finding is fixed or acknowledged.\n' "$MARKER" \
      | jq -Rs '{body: .}' >"$tmp/body.json"
    ;;
esac

if [ -n "$first" ]; then
  api PATCH "$repo_url/issues/comments/$first" "$tmp/body.json"
  say "updated comment $first on pull request #$number"
else
  api POST "$repo_url/issues/$number/comments" "$tmp/body.json"
  say "added comment $(jq -r '.id' "$tmp/answer") on pull request #$number"
fi
# Others (two runs that raced) go: one comment per pull request.
tail -n +2 "$tmp/ids" | while read -r id; do
  api DELETE "$repo_url/issues/comments/$id"
  say "deleted duplicate comment $id"
done
