#!/usr/bin/env bash
# Forwarding throughput: Sealpost versus Postfix, side by side on this machine.
#
# Postfix's smtp-source sends N messages to an alias user@bench.test; the system under test
# forwards each to a Postfix smtp-sink. Run 1 is Sealpost (in-memory forwarding: it answers 250
# only once the sink accepted). Run 2 is a private Postfix instance (virtual_alias_maps, its own
# queue): it answers 250 once queued, so its time is taken until the sink has every message.
# Prints messages/s end to end, the ratio, and peak RSS.
#
#   bench/smtp_forward.sh [-m MESSAGES] [-s SESSIONS] [-l SIZE]
#   BENCH_POSTFIX_QUEUE=tmpfs puts Postfix's queue on a tmpfs (its best case).
#   SEALPOST_BIN=path overrides build/sealpost.
set -euo pipefail

messages=20000
sessions=20
size=4096
while getopts "m:s:l:" opt; do
  case $opt in
    m) messages=$OPTARG ;;
    s) sessions=$OPTARG ;;
    l) size=$OPTARG ;;
    *) echo "usage: $0 [-m messages] [-s sessions] [-l size]" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
sealpost=${SEALPOST_BIN:-$root/build/sealpost}
source_bin=/usr/sbin/smtp-source
sink_bin=/usr/sbin/smtp-sink
for b in "$sealpost" "$source_bin" "$sink_bin" /usr/sbin/postfix; do
  [ -x "$b" ] || { echo "missing $b (make build; scripts/install-deps.sh bench)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/sealpost-bench.XXXXXX)
# Started as root, sealpost serves as the system user scripts/install-deps.sh creates.
server_user=$([ "$(id -u)" -ne 0 ] || echo 'user = "sealpost"')
chmod 755 "$work"  # Postfix's daemons run as the postfix user and must reach their queue
pids=()
postfix_dir=""
tmpfs_mounted=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  stop_postfix
  if [ -n "$tmpfs_mounted" ]; then umount "$tmpfs_mounted" 2>/dev/null || true; fi
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

vmhwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

run_source() {  # port -> prints elapsed seconds of smtp-source
  local start end
  start=$(now)
  "$source_bin" -s "$sessions" -m "$messages" -l "$size" -f sender@origin.bench.test \
    -t user@bench.test "127.0.0.1:$1" >"$work/source-$1.log" 2>&1 || {
    echo "smtp-source failed:" >&2; tail -5 "$work/source-$1.log" >&2; return 1; }
  end=$(now)
  calc "$end - $start"
}

wait_for_sink() {  # expected count, timeout seconds
  local deadline=$((SECONDS + $2))
  while [ "${SECONDS}" -lt "$deadline" ]; do
    [ "$(sink_count)" = "$1" ] && return 0
    sleep 0.05
  done
  return 1
}

# --- Run 1: Sealpost -------------------------------------------------------------------------
echo "== Sealpost: $messages messages of $size bytes, $sessions sessions"
start_sink sealpost
sp_port=$(free_port)
mkdir -p "$work/sealpost"
cat >"$work/sealpost/sealpost.toml" <<TOML
[server]
hostname = "mx.bench.test"
data_dir = "$work/sealpost/data"
$server_user
[listen]
smtp = "127.0.0.1:$sp_port"
[dns]
servers = ["127.0.0.1:$(free_port)"]   # unused: the transport map routes
trust_anchor = ""
[auth]
enabled = false   # Postfix checks no SPF/DKIM/DMARC either; bench/auth.sh measures their cost
[filter]
enabled = false   # nor content; bench/filter.sh measures the filter against Postfix + rspamd
[transport]
"sink.bench.test" = "127.0.0.1:$sink_port"
[limits]
connections_per_client = 1000
[log]
level = "warn"
TOML
"$sealpost" domain add bench.test --config "$work/sealpost/sealpost.toml" >/dev/null
"$sealpost" alias add user@bench.test --forward dest@sink.bench.test \
  --config "$work/sealpost/sealpost.toml" >/dev/null
"$sealpost" serve --config "$work/sealpost/sealpost.toml" >"$work/sealpost/log" 2>&1 &
sp_pid=$!
pids+=($sp_pid)
wait_port "$sp_port"
sp_time=$(run_source "$sp_port")
wait_for_sink "$messages" 30 || { echo "LOST MESSAGES: sink has $(sink_count) of $messages" >&2; exit 1; }
sp_rss=$(vmhwm_kib "$sp_pid")
kill "$sp_pid"; kill "$sink_pid"
sp_rate=$(calc "$messages / $sp_time")
printf "   %.2f s, %.0f messages/s, peak RSS %d KiB\n" "$sp_time" "$sp_rate" "$sp_rss"

# --- Run 2: Postfix --------------------------------------------------------------------------
echo "== Postfix $(postconf -d -h mail_version): same messages, virtual alias to the same kind of sink"
start_sink postfix
pf_port=$(free_port)
postfix_dir="$work/postfix"
queue="$postfix_dir/queue"
postfix_forwarding_config "$postfix_dir" "$sink_port" "$sessions"
postfix_master_cf "$pf_port"
start_postfix "$queue" "$pf_port"
start=$(now)
pf_smtp_time=$(run_source "$pf_port")
wait_for_sink "$messages" 600 || {
  echo "LOST MESSAGES: sink has $(sink_count) of $messages" >&2; exit 1; }
end=$(now)
pf_time=$(calc "$end - $start")
# Postfix is a family of processes: the master and the daemons it forked (smtpd, cleanup,
# qmgr, smtp, ...), each counted at its own peak.
pf_master=$(tr -d ' ' <"$queue/pid/master.pid")
pf_rss=$(vmhwm_kib "$pf_master")
for p in $(pgrep -P "$pf_master" || true); do
  pf_rss=$((pf_rss + $(vmhwm_kib "$p")))
done
pf_rate=$(calc "$messages / $pf_time")
printf "   %.2f s end to end (%.2f s until smtp-source finished), %.0f messages/s, peak RSS %d KiB (its processes summed)\n" \
  "$pf_time" "$pf_smtp_time" "$pf_rate" "$pf_rss"
stop_postfix

echo
printf "%-10s %12s %14s\n" "" "messages/s" "peak RSS KiB"
printf "%-10s %12.0f %14d\n" "Sealpost" "$sp_rate" "$sp_rss"
printf "%-10s %12.0f %14d\n" "Postfix" "$pf_rate" "$pf_rss"
printf "ratio Sealpost/Postfix: %.2f\n" "$(calc "$sp_rate / $pf_rate")"
if [ "${BENCH_POSTFIX_QUEUE:-disk}" != tmpfs ]; then
  echo "(Postfix's queue was on disk; runs that write a disk queue need minutes of idle time"
  echo " between them to be comparable. BENCH_POSTFIX_QUEUE=tmpfs gives its best case.)"
fi
