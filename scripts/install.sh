#!/usr/bin/env bash
# Installs a released forewarn binary: downloads the archive for this machine from a GitHub
# release, checks it against the release's SHA256SUMS, and puts the binary in a folder.
#
#   scripts/install.sh            install (what action.yml runs)
#   scripts/install.sh target     print the target triple of this machine
#
# Read from the environment:
#   FOREWARN_VERSION           the release: 0.1.0 or v0.1.0 (required to install)
#   FOREWARN_INSTALL_DIR       the folder the binary goes into (required to install)
#   FOREWARN_REPOSITORY        owner/name of the repository with the releases (default:
#                              forewarn/forewarn)
#   FOREWARN_RELEASE_BASE_URL  where releases are downloaded from (default:
#                              $GITHUB_SERVER_URL/$FOREWARN_REPOSITORY/releases/download); the
#                              archive is $FOREWARN_RELEASE_BASE_URL/v<version>/<asset>
#   FOREWARN_TARGET            the target triple (default: from uname)
#   FOREWARN_DOWNLOADER        curl or wget (default: curl when present, else wget)
#
# Exit codes:
#   0  installed: $FOREWARN_INSTALL_DIR/forewarn (forewarn.exe on Windows) runs
#   2  refused: the archive does not match its checksum, the release has no checksum for it,
#      or a tool is missing. Nothing is installed; building from source would hide the problem.
#   3  no release archive for this version and target (or it could not be downloaded, or does
#      not run here): build from source instead.
set -eu

NO_RELEASE=3
REFUSED=2

say() { printf 'forewarn install: %s\n' "$*" >&2; }

target() {
  if [ -n "${FOREWARN_TARGET:-}" ]; then
    printf '%s\n' "$FOREWARN_TARGET"
    return 0
  fi
  local os arch
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$arch" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
  esac
  case "$os" in
    Linux) printf '%s-unknown-linux-musl\n' "$arch" ;;
    Darwin) printf '%s-apple-darwin\n' "$arch" ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT) printf '%s-pc-windows-msvc\n' "$arch" ;;
    *) printf '%s-unknown-%s\n' "$arch" "$(printf '%s' "$os" | tr '[:upper:]' '[:lower:]')" ;;
  esac
}

# download URL FILE: 0 when downloaded; 4 when the server has no such file (HTTP 404); 1 else.
download() {
  local url="$1" out="$2" tool="${FOREWARN_DOWNLOADER:-}"
  if [ -z "$tool" ]; then
    if command -v curl >/dev/null 2>&1; then tool=curl; elif command -v wget >/dev/null 2>&1; then tool=wget; fi
  fi
  case "$tool" in
    curl)
      local status
      status="$(curl -sSL --retry 2 --connect-timeout 20 -o "$out" -w '%{http_code}' "$url")" || status="${status:-000}"
      case "$status" in
        200) return 0 ;;
        404) return 4 ;;
        *)
          say "downloading $url answered HTTP $status"
          return 1
          ;;
      esac
      ;;
    wget)
      local err
      if err="$(wget -q -S -O "$out" "$url" 2>&1)"; then
        return 0
      fi
      case "$err" in
        *" 404 "*) return 4 ;;
      esac
      say "downloading $url failed: $(printf '%s' "$err" | tail -n 1)"
      return 1
      ;;
    *)
      say "neither curl nor wget is installed; install one of them"
      exit "$REFUSED"
      ;;
  esac
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    say "neither sha256sum nor shasum is installed, so the download cannot be checked"
    exit "$REFUSED"
  fi
}

unpack() {
  local archive="$1" into="$2"
  case "$archive" in
    *.zip)
      if command -v unzip >/dev/null 2>&1; then
        unzip -q "$archive" -d "$into"
      elif command -v 7z >/dev/null 2>&1; then
        7z x -y "-o$into" "$archive" >/dev/null
      else
        powershell -NoProfile -Command "Expand-Archive -LiteralPath '$archive' -DestinationPath '$into'"
      fi
      ;;
    *) tar -xzf "$archive" -C "$into" ;;
  esac
}

install() {
  local version="${FOREWARN_VERSION:?names the release to install, e.g. 0.1.0}"
  local dir="${FOREWARN_INSTALL_DIR:?names the folder to install forewarn into}"
  version="${version#v}"
  # A version goes into a URL: only the characters a version has.
  case "$version" in
    '' | *[!0-9A-Za-z.+-]*)
      say "\"$FOREWARN_VERSION\" is not a version (expected something like 0.1.0)"
      exit "$REFUSED"
      ;;
  esac
  local triple exe="forewarn" asset
  triple="$(target)"
  case "$triple" in
    *-windows-*)
      exe="forewarn.exe"
      asset="forewarn-$triple.zip"
      ;;
    *) asset="forewarn-$triple.tar.gz" ;;
  esac
  local server="${GITHUB_SERVER_URL:-https://github.com}"
  local base="${FOREWARN_RELEASE_BASE_URL:-$server/${FOREWARN_REPOSITORY:-forewarn/forewarn}/releases/download}"
  local url="${base%/}/v$version"

  local tmp
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/forewarn-install.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: tmp is local
  trap "rm -rf '$tmp'" EXIT

  local code=0
  download "$url/$asset" "$tmp/$asset" || code=$?
  if [ "$code" -ne 0 ]; then
    if [ "$code" -eq 4 ]; then
      say "no release archive $asset for v$version at $url (HTTP 404); build from source instead"
    else
      say "could not download $url/$asset; build from source instead"
    fi
    exit "$NO_RELEASE"
  fi
  code=0
  download "$url/SHA256SUMS" "$tmp/SHA256SUMS" || code=$?
  if [ "$code" -ne 0 ]; then
    say "the release v$version has $asset but its SHA256SUMS could not be downloaded from $url, so the archive cannot be checked; nothing was installed"
    exit "$REFUSED"
  fi
  local expected actual
  expected="$(awk -v a="$asset" '$2 == a || $2 == "*" a { print tolower($1) }' "$tmp/SHA256SUMS")"
  case "$expected" in
    '' | *[!0-9a-f]*)
      say "SHA256SUMS of v$version has no single checksum for $asset, so it cannot be checked; nothing was installed"
      exit "$REFUSED"
      ;;
  esac
  actual="$(sha256_of "$tmp/$asset")"
  if [ "$actual" != "$expected" ]; then
    say "checksum mismatch for $asset (v$version): SHA256SUMS says $expected, the download is $actual. The download is not the released file; nothing was installed."
    exit "$REFUSED"
  fi
  say "$asset matches SHA256SUMS ($actual)"

  mkdir -p "$tmp/unpacked"
  if ! unpack "$tmp/$asset" "$tmp/unpacked" || [ ! -f "$tmp/unpacked/$exe" ]; then
    say "$asset (checksum good) has no $exe at its top level; nothing was installed"
    exit "$REFUSED"
  fi
  chmod +x "$tmp/unpacked/$exe"
  if ! "$tmp/unpacked/$exe" --version >/dev/null 2>&1; then
    say "the released $exe for $triple does not run on this machine; build from source instead"
    exit "$NO_RELEASE"
  fi
  mkdir -p "$dir"
  # Beside the destination first, then renamed: a binary is never half-written.
  cp "$tmp/unpacked/$exe" "$dir/.$exe.partial"
  mv -f "$dir/.$exe.partial" "$dir/$exe"
  say "installed $("$dir/$exe" --version) into $dir"
}

case "${1:-install}" in
  install) install ;;
  target) target ;;
  *)
    say "usage: scripts/install.sh [install|target]"
    exit "$REFUSED"
    ;;
esac
