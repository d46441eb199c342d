#!/usr/bin/env bash
# Installs the Debian packages Sealpost needs to build and test, only those that are missing.
# Usage: scripts/install-deps.sh [build|demo|test|bench]
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config clang
  libboost1.81-dev libboost-json1.81-dev libssl-dev libsodium-dev libunbound-dev libidn2-dev libpsl-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev libzstd-dev zlib1g-dev libzxcvbn-dev
  libxml2-dev libmagic-dev libarchive-dev libicu-dev libgtest-dev libyaml-cpp-dev publicsuffix
  dns-root-data ca-certificates
)
# clamav-daemon: the tests start clamd themselves, with signatures of their own (no freshclam).
test_pkgs=(python3 python3-aiosmtpd python3-dkim python3-yaml ldnsutils swaks libnet-ssleay-perl openssl unbound neomutt
  fetchmail isync dovecot-core dovecot-imapd curl gdb clamav-daemon)
bench_pkgs=(postfix dovecot-core bc rspamd)
# The demo prints a swaks command (with --tls) and a curl command (IMAP) to try it.
demo_pkgs=(swaks libnet-ssleay-perl curl)

want=("${build_pkgs[@]}")
case "${1:-build}" in
  build) ;;
  demo) want+=("${demo_pkgs[@]}") ;;
  test) want+=("${test_pkgs[@]}") ;;
  bench) want+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 [build|demo|test|bench]" >&2; exit 2 ;;
esac

# Started as root, `sealpost serve` (and `sealpost demo`) runs as an unprivileged user: the tests
# and the demo use this system user, without a home or a login shell.
if [ "$(id -u)" -eq 0 ] && ! getent passwd sealpost >/dev/null; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin sealpost
fi

missing=()
# npm fetches the pinned SQLite3 Multiple Ciphers package; a machine may already have Node.js and
# npm from elsewhere (Debian's npm conflicts with such a nodejs), so only install it when absent.
command -v npm >/dev/null 2>&1 || want+=(npm)
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks debconf questions on install; answer "No configuration" so it never touches the
# machine's mail setup (the benchmark runs its own private instance).
if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
fi
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends "${missing[@]}"
