#!/usr/bin/env bash
# The content filter's cost: Sealpost forwarding without it, with it, with it and ClamAV, and the
# setup a user would build instead (Postfix + rspamd as a milter + ClamAV), side by side.
#
# bench/filter_load.py sends the same realistic mix to each (text, HTML newsletters, PDF, zip and
# image attachments, a few messages that blocklists list, and 4% hostile ones: EICAR and an
# .exe), one message per connection from S sessions at once, to user@bench.test, which each
# system forwards to a Postfix smtp-sink. bench/filter_peers.py runs the peers both use: an
# unbound on loopback answering every name (the blocklist zones with a few listings, NXDOMAIN for
# the rest, never the internet) and a private clamd with the tests' signatures (no freshclam).
#
#   (a) Sealpost, [filter] enabled = false
#   (b) Sealpost, the whole pipeline but ClamAV: DNSBL, RHSBL and URIBL zones, the family-filter
#       resolver and forward-confirmed reverse DNS, all asked of the local unbound; clamd = ""
#   (c) (b) and ClamAV, the private clamd's unix socket
#   (d) a private Postfix (virtual alias to the sink, as bench/smtp_forward.sh runs it) with a
#       private rspamd as its milter (proxy worker in milter mode, the packaged configuration with
#       local.d/override.d files of ours: its DNS the local unbound, its RBL rules our zones, its
#       antivirus module the same clamd; see bench/README.md for exactly what ran)
#   (e) the same Postfix without the milter, for scale
#
# Prints messages/s, the CPU per message of the system's processes (Sealpost; Postfix's and
# rspamd's process trees; clamd where it scans), the local DNS server's CPU apart, what each
# refused, and the ratios (b)/(a) (goal >= 0.8) and (c)/(d) (goal >= 5). Exits 1 when a system
# lost, refused or let through a message it should not have.
#
#   bench/filter.sh [-m MESSAGES] [-s SESSIONS] [-w WARMUP] [-r abcde] [-A]
#   -A: [auth] enabled = true in Sealpost's runs (SPF/DKIM/DMARC, as rspamd's default modules do)
#   BENCH_RSPAMD_WORKERS=N: rspamd's normal workers (its default is one on a 2-core machine)
#   BENCH_RSPAMD_LOG=info, BENCH_SEALPOST_LOG=info: a log line per message (their default levels;
#   "warning" and "warn" here)
#   BENCH_CLAMD_TMP=tmpfs puts clamd's temporary files on a tmpfs (by default they go to /tmp, as
#   Debian's clamd.conf has them); BENCH_POSTFIX_QUEUE=tmpfs puts Postfix's queue on a tmpfs.
#   BENCH_KEEP=1 keeps the work directory.
#   SEALPOST_BIN=path overrides build/sealpost.
set -euo pipefail

messages=2000
sessions=20
warmup=200
runs=abcde
auth=false
while getopts "m:s:w:r:A" opt; do
  case $opt in
    m) messages=$OPTARG ;;
    s) sessions=$OPTARG ;;
    w) warmup=$OPTARG ;;
    r) runs=$OPTARG ;;
    A) auth=true ;;
    *) echo "usage: $0 [-m messages] [-s sessions] [-w warmup] [-r abcde] [-A]" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
sealpost=${SEALPOST_BIN:-$root/build/sealpost}
sink_bin=/usr/sbin/smtp-sink
python=/usr/bin/python3
for b in "$sealpost" "$sink_bin" /usr/sbin/postfix /usr/bin/rspamd /usr/sbin/clamd /usr/sbin/unbound /usr/bin/curl; do
  [ -x "$b" ] || { echo "missing $b (make build; scripts/install-deps.sh bench)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/sealpost-filter-bench.XXXXXX)
server_user=$([ "$(id -u)" -ne 0 ] || echo 'user = "sealpost"')
chmod 755 "$work"  # Postfix's and rspamd's daemons run as their own users
pids=()
postfix_dir=""
tmpfs_mounted=""
peers_pid=""
rspamd_pid=""
stop_rspamd() {
  [ -n "$rspamd_pid" ] || return 0
  kill "$rspamd_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$rspamd_pid" 2>/dev/null || break; sleep 0.1; done
  rspamd_pid=""
}
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  stop_postfix
  stop_rspamd
  if [ -n "$peers_pid" ]; then kill "$peers_pid" 2>/dev/null || true; wait "$peers_pid" 2>/dev/null || true; fi
  if [ -n "$tmpfs_mounted" ]; then umount "$tmpfs_mounted" 2>/dev/null || true; fi
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

load() {  # label port expect-refused cpu-pids [more filter_load.py options] -> $work/<label>.json
  local label=$1 port=$2 expect=$3 cpu=$4
  shift 4
  if [ "$warmup" -gt 0 ]; then
    # Another seed: other Message-IDs, so no message of the run repeats one of the warm-up.
    "$python" "$root/bench/filter_load.py" --port "$port" -m "$warmup" -s "$sessions" \
      --seed 1 --expect-refused "$expect" --sink-log "$sink_log" "$@" \
      >"$work/warmup-${label:1:1}.log" 2>&1 || {
      echo "the warm-up failed:" >&2; cat "$work/warmup-${label:1:1}.log" >&2; return 1; }
  fi
  "$python" "$root/bench/filter_load.py" --port "$port" -m "$messages" -s "$sessions" \
    --expect-refused "$expect" --sink-log "$sink_log" --cpu-pid "$cpu" --dns-pid "$DNS_PID" \
    --label "$label" --json "$work/${label:1:1}.json" "$@" || true
}

# --- The peers: unbound and clamd --------------------------------------------------------------
clamd_tmp=()
[ "${BENCH_CLAMD_TMP:-disk}" != tmpfs ] || clamd_tmp=(--clamd-tmpfs)
"$python" "$root/bench/filter_peers.py" --env "$work/peers.env" --clamd "${clamd_tmp[@]}" \
  >"$work/peers.log" 2>&1 &
peers_pid=$!
for _ in $(seq 1200); do
  [ -f "$work/peers.env" ] && break
  kill -0 "$peers_pid" 2>/dev/null || { echo "the peers did not start:" >&2; cat "$work/peers.log" >&2; exit 1; }
  sleep 0.1
done
[ -f "$work/peers.env" ] || { echo "the peers did not start in 120 s" >&2; exit 1; }
# DNS_PORT, DNS_PID, CLAMD_SOCKET, CLAMD_PID (bench/filter_peers.py)
# shellcheck disable=SC1091
. "$work/peers.env"
echo "== $messages messages per run ($warmup more to warm up), $sessions sessions, one message per connection"
echo "   unbound on 127.0.0.1:$DNS_PORT, clamd on $CLAMD_SOCKET (its temporary files on ${BENCH_CLAMD_TMP:-disk});"
echo "   Sealpost [auth] enabled = $auth"

# --- (a)-(c): Sealpost ---------------------------------------------------------------------------
run_sealpost() {  # label expect-refused filter-lines cpu-extra-pid
  local label=$1 expect=$2 filter=$3 extra_pid=$4 dir port
  echo "== $label"
  start_sink "${label:1:1}"
  dir="$work/sealpost-${label:1:1}"
  port=$(free_port)
  mkdir -p "$dir"
  cat >"$dir/sealpost.toml" <<TOML
[server]
hostname = "mx.bench.test"
data_dir = "$dir/data"
$server_user
[listen]
smtp = "127.0.0.1:$port"
[dns]
servers = ["127.0.0.1:$DNS_PORT"]
trust_anchor = ""
[auth]
enabled = $auth
[transport]
"sink.bench.test" = "127.0.0.1:$sink_port"
[limits]
connections_per_client = 1000
connection_rate = 0
[log]
level = "${BENCH_SEALPOST_LOG:-warn}"
[filter]
$filter
TOML
  "$sealpost" domain add bench.test --config "$dir/sealpost.toml" >/dev/null
  "$sealpost" alias add user@bench.test --forward dest@sink.bench.test \
    --config "$dir/sealpost.toml" >/dev/null
  "$sealpost" serve --config "$dir/sealpost.toml" >"$dir/log" 2>&1 &
  local sp_pid=$!
  pids+=("$sp_pid")
  wait_port "$port"
  load "$label" "$port" "$expect" "sealpost=$sp_pid${extra_pid:+,clamd=$extra_pid}"
  # Its start-up warnings about the open-files limit and the missing certificate left out.
  if grep -E " (warning|error|critical) " "$dir/log" | grep -v -q -E "open files|STARTTLS is not offered"; then
    echo "   Sealpost's log (warn):"
    grep -E " (warning|error|critical) " "$dir/log" | grep -v -E "open files|STARTTLS is not offered" |
      tail -5 | sed 's/^/     /'
  fi
  kill "$sp_pid" "$sink_pid"
}

lists='dnsbl = { "dnsbl.bench.test" = 7.0 }
rhsbl = { "rhsbl.bench.test" = 6.0 }
uribl = { "uribl.bench.test" = 5.0 }
family_resolver = "127.0.0.1:'"$DNS_PORT"'"
reverse_dns = true'
case $runs in *a*)
  run_sealpost "(a) Sealpost, filter off" "" 'enabled = false
dnsbl = {}
rhsbl = {}
uribl = {}
family_resolver = ""
reverse_dns = false
clamd = ""' "" ;;
esac
case $runs in *b*)
  run_sealpost "(b) Sealpost, filter without ClamAV" "exe" "$lists
clamd = \"\"" "" ;;
esac
case $runs in *c*)
  run_sealpost "(c) Sealpost, filter with ClamAV" "eicar,exe" "$lists
clamd = \"$CLAMD_SOCKET\"" "$CLAMD_PID" ;;
esac

# --- (d), (e): Postfix, with and without rspamd ------------------------------------------------
rspamd_dir="$work/rspamd"

# rspamd as Debian packages it (/etc/rspamd/rspamd.conf and everything it includes), with a
# private LOCAL_CONFDIR whose local.d/override.d files change only what must change here, and
# private DBDIR, RUNDIR and LOGDIR. Its workers run as the package's _rspamd user.
start_rspamd() {
  local etc="$rspamd_dir/etc" normal_port proxy_port controller_port
  normal_port=$(free_port)
  proxy_port=$(free_port)
  controller_port=$(free_port)
  mkdir -p "$etc/local.d" "$etc/override.d" "$rspamd_dir/db" "$rspamd_dir/run" "$rspamd_dir/log"
  chown _rspamd:_rspamd "$rspamd_dir/db" "$rspamd_dir/run" "$rspamd_dir/log"
  # Its URL parser knows links only under the suffixes of its list: add the reserved .test of
  # the benchmark's domains, or it would find no link in plain text (a real domain's links it
  # finds).
  { cat /usr/share/rspamd/effective_tld_names.dat
    printf '\n// bench/filter.sh: the benchmark mail is under the reserved .test\ntest\n'
  } >"$etc/tld.dat"
  cat >"$etc/local.d/options.inc" <<EOF
dns { nameserver = ["127.0.0.1:$DNS_PORT"]; }
url_tld = "$etc/tld.dat";
EOF
  cat >"$etc/override.d/worker-proxy.inc" <<EOF
bind_socket = "127.0.0.1:$proxy_port";
upstream "local" { default = yes; hosts = "127.0.0.1:$normal_port"; }
EOF
  cat >"$etc/override.d/worker-normal.inc" <<EOF
bind_socket = "127.0.0.1:$normal_port";
${BENCH_RSPAMD_WORKERS:+count = $BENCH_RSPAMD_WORKERS;}
EOF
  cat >"$etc/override.d/worker-controller.inc" <<EOF
bind_socket = "127.0.0.1:$controller_port";
EOF
  # As Sealpost logs at warn, and Postfix's maillog goes to /dev/null.
  cat >"$etc/override.d/logging.inc" <<EOF
type = "file";
filename = "$rspamd_dir/log/rspamd.log";
level = "${BENCH_RSPAMD_LOG:-warning}";
EOF
  # The blocklists: only the local zones, with Sealpost's scores (the packaged rules, Spamhaus,
  # SURBL and the others, replaced: they would ask the internet).
  cat >"$etc/override.d/rbl.conf" <<'EOF'
rbls {
  BENCH_DNSBL {
    rbl = "dnsbl.bench.test";
    from = true;
    ipv4 = true;
    ipv6 = true;
    received = false;
    returncodes { BENCH_DNSBL = "127.0.0.2"; }
  }
  BENCH_RHSBL {
    rbl = "rhsbl.bench.test";
    ignore_defaults = true;
    from = false;
    selector = {
      envfrom = "from('smtp'):domain.get_tld";
      from = "from('mime'):domain.get_tld";
    }
  }
  BENCH_URIBL {
    rbl = "uribl.bench.test";
    ignore_defaults = true;
    from = false;
    urls = true;
  }
}
EOF
  cat >"$etc/local.d/rbl_group.conf" <<'EOF'
symbols {
  BENCH_DNSBL { score = 7.0; }
  BENCH_RHSBL { score = 6.0; one_shot = true; }
  BENCH_URIBL { score = 5.0; one_shot = true; }
}
EOF
  # The public fuzzy storage is on the internet.
  echo 'enabled = false;' >"$etc/local.d/fuzzy_check.conf"
  cat >"$etc/local.d/antivirus.conf" <<EOF
clamav {
  type = "clamav";
  servers = "$CLAMD_SOCKET";
  action = "reject";
  symbol = "CLAM_VIRUS";
  log_clean = true;  # logged at info (BENCH_RSPAMD_LOG=info)
}
EOF
  # Sealpost refuses programs; rspamd scores them (MIME_DOUBLE_BAD_EXTENSION 3.0, ...): the rule a
  # user adds to refuse them as well.
  cat >"$etc/local.d/force_actions.conf" <<'EOF'
rules {
  EXECUTABLE_ATTACHMENT {
    action = "reject";
    expression = "MIME_BAD_EXTENSION | MIME_DOUBLE_BAD_EXTENSION";
    message = "Executable attachment refused";
  }
}
EOF
  local vars=(--var="LOCAL_CONFDIR=$etc" --var="DBDIR=$rspamd_dir/db" --var="RUNDIR=$rspamd_dir/run"
    --var="LOGDIR=$rspamd_dir/log")
  rspamadm "${vars[@]}" configtest -c /etc/rspamd/rspamd.conf >"$rspamd_dir/configtest.log" 2>&1 || {
    echo "rspamd's configuration does not pass configtest:" >&2; cat "$rspamd_dir/configtest.log" >&2; exit 1; }
  rspamd -f -u _rspamd -g _rspamd -c /etc/rspamd/rspamd.conf "${vars[@]}" \
    >"$rspamd_dir/stdout.log" 2>&1 &
  rspamd_pid=$!
  rspamd_proxy_port=$proxy_port
  # Ready once the scanning worker answers rspamc (it compiles its expressions first).
  for _ in $(seq 600); do
    kill -0 "$rspamd_pid" 2>/dev/null || { echo "rspamd exited:" >&2; tail -20 "$rspamd_dir/log/rspamd.log" "$rspamd_dir/stdout.log" >&2; exit 1; }
    curl -s -m 2 "http://127.0.0.1:$normal_port/ping" 2>/dev/null | grep -q pong && break
    sleep 0.2
  done
  wait_port "$proxy_port"
}

run_postfix() {  # label expect-refused milter(yes|no) cpu-extra-pids
  local label=$1 expect=$2 milter=$3 extra=$4 pf_port queue
  echo "== $label"
  start_sink "${label:1:1}"
  pf_port=$(free_port)
  postfix_dir="$work/postfix-${label:1:1}"
  queue="$postfix_dir/queue"
  postfix_forwarding_config "$postfix_dir" "$sink_port" "$sessions"
  cat >>"$postfix_dir/main.cf" <<CF
# The load generator names each session's client (a public-looking address; rspamd skips most
# checks for loopback clients).
smtpd_authorized_xclient_hosts = 127.0.0.0/8
CF
  if [ "$milter" = yes ]; then
    cat >>"$postfix_dir/main.cf" <<CF
# rspamd's documented Postfix integration; a milter that fails defers the message (so a broken
# rspamd shows up as refusals rather than as unscanned mail).
smtpd_milters = inet:127.0.0.1:$rspamd_proxy_port
milter_protocol = 6
milter_mail_macros = i {mail_addr} {client_addr} {client_name} {auth_authen}
milter_default_action = tempfail
CF
  fi
  postfix_master_cf "$pf_port"
  start_postfix "$queue" "$pf_port"
  local master
  master=$(tr -d ' ' <"$queue/pid/master.pid")
  load "$label" "$pf_port" "$expect" "postfix=$master${extra:+,$extra}" --xclient
  stop_postfix
  postfix_dir=""
  if [ -n "$tmpfs_mounted" ]; then umount "$tmpfs_mounted"; tmpfs_mounted=""; fi
  kill "$sink_pid"
}

case $runs in *d*)
  start_rspamd
  run_postfix "(d) Postfix + rspamd + ClamAV" "eicar,exe" yes "rspamd=$rspamd_pid,clamd=$CLAMD_PID"
  # Its warnings, but the expected ones: no redis (statistics), no maps.rspamd.com, the
  # controller's password and stores of a first start.
  problems=$(grep -v -E "redis|BAYES|[ _]map|symbols.cache|history|stats.ucl|password|Last message repeated" \
    "$rspamd_dir/log/rspamd.log" | grep -v -E "^\s*$" || true)
  if [ -n "$problems" ]; then
    echo "   rspamd's log (warning and up), but the expected start-up lines:"
    tail -5 <<<"$problems" | cut -c1-200 | sed 's/^/     /'
  fi
  stop_rspamd ;;
esac
case $runs in *e*)
  run_postfix "(e) Postfix alone" "" no "" ;;
esac

status=0
cd "$work"
jsons=()
for r in a b c d e; do [ -f "$work/$r.json" ] && jsons+=("$work/$r.json"); done
"$python" "$root/bench/filter_load.py" --summarize "${jsons[@]}" || status=1
echo "(CPU: the system's processes, per message answered; DNS: the local unbound's, apart. The"
echo " load generator and the sink share the same cores.)"
exit $status
