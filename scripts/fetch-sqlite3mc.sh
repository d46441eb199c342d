#!/usr/bin/env bash
# Fetches the SQLite3 Multiple Ciphers amalgamation from the pinned npm package, checks the
# tarball against its pinned integrity hash, and unpacks sqlite3.c/sqlite3.h into OUT_DIR.
# The tarball is cached (SEALPOST_CACHE, default ~/.cache/sealpost) so a build fetches it once.
set -euo pipefail
out_dir=${1:?usage: fetch-sqlite3mc.sh OUT_DIR}
pkg=better-sqlite3-multiple-ciphers
version=13.0.3
integrity='sha512-UYabM82r1J84TLWc/SszoHs6XopWpl/2HCg3Nui1JUaFXg/VLswzkPowYiRhK/4CftI8dgtikwyZQecMldrGxQ=='

cache=${SEALPOST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sealpost}
tarball="$cache/$pkg-$version.tgz"
mkdir -p "$cache" "$out_dir"

check() {
  local got
  got="sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
  [ "$got" = "$integrity" ]
}

if [ ! -f "$tarball" ] || ! check "$tarball"; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null 2>"$tmp/npm.err") || {
    cat "$tmp/npm.err" >&2; echo "npm pack $pkg@$version failed" >&2; exit 1; }
  if ! check "$tmp/$pkg-$version.tgz"; then
    echo "integrity mismatch for $pkg@$version: refusing to use it" >&2
    exit 1
  fi
  mv "$tmp/$pkg-$version.tgz" "$tarball"
fi

tar -xzf "$tarball" -C "$out_dir" --strip-components=3 \
  package/deps/sqlite3/sqlite3.c package/deps/sqlite3/sqlite3.h
