#!/usr/bin/env bash
# Submission and queue throughput: Sealpost versus Postfix, side by side on this machine.
#
# bench/submission_load.py runs C clients; each connects to the submission port, STARTTLS,
# AUTH PLAIN once, then submits M messages of ~4 KiB (From: its own address) to dest.test, which
# both servers route to a Postfix smtp-sink on loopback through their transport maps:
#   - Sealpost: [listen] submission, [transport] "dest.test"; it DKIM-signs, seals and fsyncs each
#     message into its queue (SQLite) before 250, keeps a copy in the user's Sent folder, and its
#     queue runner delivers to the sink.
#   - Postfix: a private instance (its own config_directory, queue on disk and ports under a
#     temporary directory; /etc/postfix is never touched) with a submission smtpd
#     (smtpd_tls_security_level=encrypt, SASL through a private Dovecot auth service on a socket in
#     the same directory, reject_sender_login_mismatch) and transport_maps to the sink.
# Interleaved rounds (the order alternates), after a small warm-up of each. For each server the
# medians: submitted messages/s (first MAIL FROM until the last 250), end-to-end messages/s (until
# the sink counted them all), p50/p99 submit latency, the server's CPU and the disk's cache
# flushes per message, and the ratios Sealpost/Postfix. Measure on an idle machine (no build).
#
#   bench/submission.sh [-c CLIENTS] [-m MESSAGES_PER_CLIENT] [-r ROUNDS] [-l SIZE]
#                       [-p PER_DESTINATION] [-w PAUSE_SECONDS]
#   SEALPOST_BIN=path overrides build/sealpost; BENCH_KEEP=1 keeps the work directory.
set -euo pipefail

clients=20
messages=200
rounds=3
size=4096
concurrency=20
pause=10
while getopts "c:m:r:l:p:w:" opt; do
  case $opt in
    c) clients=$OPTARG ;;
    m) messages=$OPTARG ;;
    r) rounds=$OPTARG ;;
    l) size=$OPTARG ;;
    p) concurrency=$OPTARG ;;
    w) pause=$OPTARG ;;
    *) echo "usage: $0 [-c clients] [-m messages_per_client] [-r rounds] [-l size]" \
         "[-p per_destination] [-w pause_seconds]" >&2; exit 2 ;;
  esac
done
for v in "$clients" "$messages" "$rounds" "$size" "$concurrency" "$pause"; do
  [[ $v =~ ^[0-9]+$ ]] || { echo "not a number: $v" >&2; exit 2; }
done
[ "$clients" -ge 1 ] && [ "$clients" -le 500 ] || { echo "-c: 1 to 500 clients" >&2; exit 2; }
[ "$rounds" -ge 1 ] && [ "$rounds" -le 20 ] || { echo "-r: 1 to 20 rounds" >&2; exit 2; }
[ "$concurrency" -ge 1 ] || { echo "-p: at least 1" >&2; exit 2; }
[ $((clients * messages)) -le 200000 ] || { echo "at most 200000 messages a run" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
sealpost=${SEALPOST_BIN:-$root/build/sealpost}
sink_bin=/usr/sbin/smtp-sink
pf_master_bin=/usr/lib/postfix/sbin/master
python=/usr/bin/python3
load=("$python" "$root/bench/submission_load.py")
for b in "$sealpost" "$sink_bin" "$pf_master_bin" /usr/sbin/dovecot /usr/bin/openssl "$python"; do
  [ -x "$b" ] || { echo "missing $b (make build; scripts/install-deps.sh bench)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "run as root (Postfix's master and smtp-sink -u need it)" >&2; exit 1; }

work=$(mktemp -d /tmp/sealpost-bench-submission.XXXXXX)
# Started as root, sealpost serves as the system user scripts/install-deps.sh creates.
server_user=$([ "$(id -u)" -ne 0 ] || echo 'user = "sealpost"')
chmod 755 "$work"  # Postfix's and Dovecot's daemons run as their users and must reach their files
pids=()
postfix_dir=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  stop_postfix
  if [ -n "${BENCH_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

password="submission bench password"
users=()
for ((k = 0; k < clients; k++)); do users+=("bench$k@example.com"); done
user_list=$(IFS=,; echo "${users[*]}")

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" \
  -out "$work/cert.pem" -days 2 -subj "/CN=submission.bench.test" \
  -addext "subjectAltName=DNS:submission.bench.test" >/dev/null 2>&1

# --- Sealpost --------------------------------------------------------------------------------
echo "== setting up Sealpost ($("$sealpost" --version 2>/dev/null || echo '?')): $clients mailboxes"
start_sink sealpost
sp_sink_log=$sink_log
sp_port=$(free_port)
sp_dir="$work/sealpost"
mkdir -p "$sp_dir"
cat >"$sp_dir/sealpost.toml" <<TOML
[server]
hostname = "submission.bench.test"
data_dir = "$sp_dir/data"
$server_user
[listen]
submission = "127.0.0.1:$sp_port"
[tls]
cert = "$work/cert.pem"
key = "$work/key.pem"
[dns]
servers = ["127.0.0.1:1"]   # unused: the transport map routes
trust_anchor = ""
[auth]
enabled = false
[transport]
"dest.test" = "127.0.0.1:$sink_port"
[queue]
deliveries = $((concurrency > 100 ? concurrency : 100))
per_destination = $concurrency
[submission]
messages_per_user_hour = 100000000
messages_per_user_day = 100000000
messages_per_domain_hour = 100000000
messages_per_domain_day = 100000000
[limits]
connections_per_client = 1000
[access]
connections_per_client = 1000
[log]
level = "warn"
TOML
sp() { "$sealpost" "$@" --config "$sp_dir/sealpost.toml"; }
printf '%s\n' "$password" >"$sp_dir/password"
sp domain add example.com >/dev/null
for u in "${users[@]}"; do sp mailbox add "$u" --password-file "$sp_dir/password" >/dev/null; done
"$sealpost" serve --config "$sp_dir/sealpost.toml" >"$sp_dir/log" 2>&1 &
sp_pid=$!
pids+=($sp_pid)
wait_port "$sp_port"

# --- Postfix with Dovecot's SASL ---------------------------------------------------------------
echo "== setting up Postfix $(postconf -d -h mail_version) with Dovecot $(dovecot --version | cut -d' ' -f1) SASL"
start_sink postfix
pf_sink_log=$sink_log
pf_port=$(free_port)
dv_dir="$work/dovecot"
mkdir -p "$dv_dir/run" "$dv_dir/state"
auth_socket="$work/postfix-auth"
for u in "${users[@]}"; do echo "$u:{PLAIN}$password"; done >"$dv_dir/passwd"
chmod 644 "$dv_dir/passwd"
dv_internal=dovecot; id dovecot >/dev/null 2>&1 || dv_internal=nobody
dv_login=dovenull; id dovenull >/dev/null 2>&1 || dv_login=nobody
cat >"$dv_dir/dovecot.conf" <<CONF
# Only the auth service: Postfix's smtpd asks it (smtpd_sasl_type = dovecot).
base_dir = $dv_dir/run
state_dir = $dv_dir/state
instance_name = sealpost-bench-submission-$pf_port
log_path = $dv_dir/log
protocols =
ssl = no
auth_mechanisms = plain login
disable_plaintext_auth = no
default_internal_user = $dv_internal
default_internal_group = $(id -gn "$dv_internal")
default_login_user = $dv_login
import_environment = TZ
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dv_dir/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener $auth_socket {
    mode = 0666
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
CONF
/usr/sbin/dovecot -F -c "$dv_dir/dovecot.conf" >"$dv_dir/stdout" 2>&1 &
dv_pid=$!
pids+=($dv_pid)
for _ in $(seq 100); do [ -S "$auth_socket" ] && break; sleep 0.05; done
[ -S "$auth_socket" ] || { echo "Dovecot's auth socket did not appear:" >&2; cat "$dv_dir/log" "$dv_dir/stdout" >&2 || true; exit 1; }

postfix_dir="$work/postfix"
queue="$postfix_dir/queue"
mkdir -p "$postfix_dir" "$queue" "$postfix_dir/data"
chown postfix "$postfix_dir/data"
echo "dest.test smtp:[127.0.0.1]:$sink_port" >"$postfix_dir/transport"
for u in "${users[@]}"; do echo "$u $u"; done >"$postfix_dir/senders"
cat >"$postfix_dir/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $queue
data_directory = $postfix_dir/data
myhostname = submission.bench.test
myorigin = example.com
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
transport_maps = texthash:$postfix_dir/transport
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtp_tls_security_level = may
alias_maps =
local_recipient_maps =
smtpd_tls_cert_file = $work/cert.pem
smtpd_tls_key_file = $work/key.pem
smtpd_sasl_type = dovecot
smtpd_sasl_path = $auth_socket
smtpd_sender_login_maps = texthash:$postfix_dir/senders
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtp_destination_concurrency_limit = $concurrency
default_destination_concurrency_limit = $concurrency
# Tuned for the benchmark, so Postfix is measured at its best: no inbound flow throttling, no
# reverse lookups of the client, full concurrency toward the sink from the start.
in_flow_delay = 0
smtpd_peername_lookup = no
initial_destination_concurrency = $concurrency
maillog_file = ${BENCH_POSTFIX_LOG:-/dev/null}
maillog_file_prefixes = /dev/null, $postfix_dir
CF
# In place of the port-25 smtpd, a submission smtpd, as Debian's commented-out entry has it.
postfix_master_cf "$pf_port" syslog_name=postfix/submission smtpd_tls_security_level=encrypt \
  smtpd_sasl_auth_enable=yes smtpd_tls_auth_only=yes smtpd_reject_unlisted_recipient=no \
  smtpd_client_restrictions=permit_sasl_authenticated,reject \
  smtpd_sender_restrictions=reject_sender_login_mismatch,permit_sasl_authenticated,reject \
  smtpd_relay_restrictions=permit_sasl_authenticated,reject milter_macro_daemon_name=ORIGINATING
start_postfix "$queue" "$pf_port"
pf_master=$(tr -d ' ' <"$queue/pid/master.pid")

# --- the runs ----------------------------------------------------------------------------------
# The block device under both queues: its cache flushes per message are counted (fsyncs that one
# ext4 journal commit covers share a flush). Nothing is counted on tmpfs or overlay.
flush_opt=()
devnum=$(mountpoint -d "$(df --output=target "$work" | tail -1)" 2>/dev/null || true)
if [ -n "$devnum" ] && [ -e "/sys/dev/block/$devnum" ]; then
  flush_opt=(--block-dev "$(basename "$(readlink -f "/sys/dev/block/$devnum")")")
fi
run() {  # name round messages_per_client -> a JSON file (round 0: warm-up)
  local name=$1 round=$2 m=$3 port sink cpu
  if [ "$name" = sealpost ]; then port=$sp_port; sink=$sp_sink_log; cpu=$sp_pid
  else port=$pf_port; sink=$pf_sink_log; cpu="$pf_master,$dv_pid"; fi
  "${load[@]}" --port "$port" -c "$clients" -m "$m" -l "$size" --users "$user_list" \
    --password "$password" --sink-log "$sink" --sink-timeout 600 --cpu-pid "$cpu" \
    "${flush_opt[@]}" --label "$name" --seed "$round" --json "$work/result-$name-$round.json" || {
      echo "the $name run failed; its log:" >&2
      if [ "$name" = sealpost ]; then tail -20 "$sp_dir/log" >&2
      else echo "(BENCH_POSTFIX_LOG=FILE under $postfix_dir keeps Postfix's log)" >&2; fi
      exit 1; }
  kill -0 "$sp_pid" 2>/dev/null || { echo "Sealpost exited:" >&2; tail -20 "$sp_dir/log" >&2; exit 1; }
}
settle() { sync; sleep "$pause"; }

echo "== warm-up: $clients clients x 2 messages each, not counted"
run sealpost 0 2 >/dev/null
run postfix 0 2 >/dev/null
settle
results=()
for ((r = 1; r <= rounds; r++)); do
  order=(sealpost postfix)
  [ $((r % 2)) -eq 0 ] && order=(postfix sealpost)
  for name in "${order[@]}"; do
    echo "== round $r/$rounds, $name: $clients clients x $messages messages of ~$size octets"
    run "$name" "$r" "$messages"
    results+=("$work/result-$name-$r.json")
    settle
  done
done
if [ -s "$sp_dir/log" ]; then
  echo "== Sealpost's log (level warn) has $(wc -l <"$sp_dir/log") lines; the last ones:"
  tail -5 "$sp_dir/log"
fi
sorted=()
for f in "${results[@]}"; do [[ $f == *-sealpost-* ]] && sorted+=("$f"); done
for f in "${results[@]}"; do [[ $f == *-postfix-* ]] && sorted+=("$f"); done
"${load[@]}" --summarize "${sorted[@]}"
echo "(Both queues are on this machine's disk: $(df --output=source,fstype "$work" | tail -1 | tr -s ' ');"
echo " each server fsyncs every message before its 250. Sealpost also DKIM-signs it twice,"
echo " encrypts it, checks From: and files a copy in Sent; Postfix does none of these here.)"
