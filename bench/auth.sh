#!/usr/bin/env bash
# The cost of email authentication, on this machine.
#
# 1. DKIM signs/s and verifications/s, RSA-2048 and Ed25519, Sealpost versus dkimpy (Debian's
#    python3-dkim) on the same 4 KiB message and keys, and versus the bare primitives
#    (`openssl speed`, one core): the goal is 80% of the primitive's rate.
# 2. The MX forwarding rate with inbound authentication off, then on (SPF, DKIM, DMARC and ARC
#    checks against a real DNS server, unbound on 127.0.0.1, plus an ARC seal, two RSA-2048
#    signatures, on every forwarded message). Goal: authentication costs less than 15%.
#
# Each forwarding mode runs -r times, interleaved (off, checks, seal, off, ...); the medians are
# compared, since one run on a small virtual machine varies by 10-20%.
#
#   bench/auth.sh [-m MESSAGES] [-s SESSIONS] [-t SECONDS] [-r RUNS]
set -euo pipefail

messages=10000
sessions=20
seconds=3
runs=3
while getopts "m:s:t:r:" opt; do
  case $opt in
    m) messages=$OPTARG ;;
    s) sessions=$OPTARG ;;
    t) seconds=$OPTARG ;;
    r) runs=$OPTARG ;;
    *) echo "usage: $0 [-m messages] [-s sessions] [-t seconds] [-r runs]" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
sink_bin=/usr/sbin/smtp-sink
sealpost=${SEALPOST_BIN:-$root/build/sealpost}
bench_dkim=${SEALPOST_BENCH_DKIM:-$root/build/sealpost_bench_dkim}
for b in "$sealpost" "$bench_dkim" /usr/sbin/smtp-source /usr/sbin/smtp-sink /usr/sbin/unbound; do
  [ -x "$b" ] || { echo "missing $b (make bench builds and installs what it needs)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/sealpost-auth-bench.XXXXXX)
# Started as root, sealpost serves as the system user scripts/install-deps.sh creates.
server_user=$([ "$(id -u)" -ne 0 ] || echo 'user = "sealpost"')
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT


echo "== DKIM: 4 KiB message, ${seconds}s per figure, one thread"
"$bench_dkim" "$work/dkim" "$seconds" | tee "$work/dkim-sealpost.txt"
/usr/bin/python3 "$root/bench/dkim_bench.py" "$work/dkim" "$seconds" | tee "$work/dkim-py.txt"
for alg in rsa ed25519; do
  read -r sp_sign sp_verify < <(awk -v a="$alg" '$2 == a {print $4, $7}' "$work/dkim-sealpost.txt")
  read -r py_sign py_verify < <(awk -v a="$alg" '$2 == a {print $4, $7}' "$work/dkim-py.txt")
  printf "ratio %-8s sign %.1fx   verify %.1fx (Sealpost/dkimpy)\n" "$alg" \
    "$(calc "$sp_sign / $py_sign")" "$(calc "$sp_verify / $py_verify")"
done
openssl speed -seconds "$seconds" rsa2048 ed25519 2>/dev/null >"$work/openssl-speed.txt"
for alg in rsa ed25519; do
  read -r sp_sign sp_verify < <(awk -v a="$alg" '$2 == a {print $4, $7}' "$work/dkim-sealpost.txt")
  if [ "$alg" = rsa ]; then
    read -r os_sign os_verify < <(awk '$1 == "rsa" && $2 == "2048" {print $(NF-1), $NF}' \
      "$work/openssl-speed.txt")
  else
    read -r os_sign os_verify < <(awk '/Ed25519/ {print $(NF-1), $NF}' "$work/openssl-speed.txt")
  fi
  printf "primitive %-8s sign %.0f%%   verify %.0f%% of openssl speed (%.0f and %.0f /s)\n" \
    "$alg" "$(calc "100 * $sp_sign / $os_sign")" "$(calc "100 * $sp_verify / $os_verify")" \
    "$os_sign" "$os_verify"
done

# --- DNS: the sender's SPF and DMARC records, as a sender domain would publish them -----------
dns_port=$(free_port)
cat >"$work/unbound.conf" <<CONF
server:
  interface: 127.0.0.1@$dns_port
  do-ip6: no
  do-daemonize: no
  use-syslog: no
  username: ""
  chroot: ""
  directory: "$work"
  pidfile: ""
  verbosity: 0
  access-control: 127.0.0.0/8 allow
  local-zone: "origin.bench.test." static
  local-data: 'origin.bench.test. 300 IN TXT "v=spf1 ip4:127.0.0.0/8 -all"'
  local-data: '_dmarc.origin.bench.test. 300 IN TXT "v=DMARC1; p=reject"'
remote-control:
  control-enable: no
CONF
/usr/sbin/unbound -d -c "$work/unbound.conf" >"$work/unbound.log" 2>&1 &
pids+=($!)
sleep 0.5

run() {  # auth on|checks|off -> prints messages/s
  local auth=$1 sink_port sink_pid sink_log sp_port start end
  start_sink "$auth"
  sp_port=$(free_port)
  local d="$work/sp-$auth-$(date +%s%N)"
  mkdir -p "$d"
  cat >"$d/sealpost.toml" <<TOML
[server]
hostname = "mx.bench.test"
data_dir = "$d/data"
$server_user
[listen]
smtp = "127.0.0.1:$sp_port"
[dns]
servers = ["127.0.0.1:$dns_port"]
trust_anchor = ""
[auth]
enabled = $([ "$auth" = off ] && echo false || echo true)
arc_seal = $([ "$auth" = on ] && echo true || echo false)
[filter]
enabled = false   # what this measures is authentication; bench/filter.sh measures the filter
[transport]
"sink.bench.test" = "127.0.0.1:$sink_port"
[limits]
connections_per_client = 1000
[log]
level = "warn"
TOML
  "$sealpost" domain add bench.test --config "$d/sealpost.toml" >/dev/null
  "$sealpost" alias add user@bench.test --forward dest@sink.bench.test \
    --config "$d/sealpost.toml" >/dev/null
  "$sealpost" serve --config "$d/sealpost.toml" >"$d/log" 2>&1 &
  local sp_pid=$!
  pids+=($sp_pid)
  wait_port "$sp_port"
  start=$(now)
  /usr/sbin/smtp-source -s "$sessions" -m "$messages" -l 4096 -f sender@origin.bench.test \
    -t user@bench.test "127.0.0.1:$sp_port" >"$work/source-$auth.log" 2>&1
  end=$(now)
  local got
  got=$(sink_count)
  kill "$sp_pid" "$sink_pid" 2>/dev/null || true
  if [ "$got" != "$messages" ]; then
    echo "LOST OR REFUSED MESSAGES with auth $auth: the sink has ${got:-0} of $messages" >&2
    tail -3 "$work/source-$auth.log" >&2
    exit 1
  fi
  calc "$messages / ($end - $start)"
}

echo "== MX forwarding: $messages messages of 4096 bytes, $sessions sessions, $runs runs each"
offs=(); checks=(); ons=()
for i in $(seq "$runs"); do
  offs+=("$(run off)"); checks+=("$(run checks)"); ons+=("$(run on)")
  printf "   run %d: off %.0f, checks %.0f, checks+seal %.0f messages/s\n" "$i" \
    "${offs[-1]}" "${checks[-1]}" "${ons[-1]}"
done
median() { printf "%s\n" "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
off=$(median "${offs[@]}"); chk=$(median "${checks[@]}"); on=$(median "${ons[@]}")
printf "   medians: authentication off %.0f; checks, no ARC seal %.0f; checks and ARC seal %.0f messages/s\n" \
  "$off" "$chk" "$on"
printf "cost of the checks (SPF, DKIM, DMARC, ARC, Authentication-Results): %.1f%% (goal: under 15%%)\n" \
  "$(calc "100 * (1 - $chk / $off)")"
printf "cost of checks and the ARC seal (two RSA-2048 signatures per message, the default): %.1f%%\n" \
  "$(calc "100 * (1 - $on / $off)")"
