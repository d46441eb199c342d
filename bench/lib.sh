# Shell helpers the benchmarks share; sourced (`. "$root/bench/lib.sh"`), never run.
# start_sink needs $work, $sink_bin and the array pids (killed by the script's cleanup);
# stop_postfix needs $postfix_dir (empty until the script has set Postfix up).

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

now() { date +%s.%N; }

calc() { awk "BEGIN { print $* }"; }

# Starts smtp-sink on a free port; sets sink_port, sink_pid and sink_log. It counts messages in
# its log (-c prints running totals) so runs can check that nothing was lost.
start_sink() {
  sink_port=$(free_port)
  sink_log="$work/sink-$1.log"
  "$sink_bin" -u nobody -c "127.0.0.1:$sink_port" 1000 >"$sink_log" 2>&1 &
  pids+=($!)
  sink_pid=$!
  wait_port "$sink_port"
}

# The sink's last running count (empty before its first message).
sink_count() { tr '\r' '\n' <"$sink_log" | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2; }

# Stops a private Postfix started with `master -c $postfix_dir`, waiting for its master to go.
stop_postfix() {
  [ -n "$postfix_dir" ] && [ -f "$postfix_dir/queue/pid/master.pid" ] || return 0
  local master
  master=$(tr -d ' ' <"$postfix_dir/queue/pid/master.pid")
  kill "$master" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$master" 2>/dev/null || break; sleep 0.1; done
  rm -f "$postfix_dir/queue/pid/master.pid"
}

# Writes $postfix_dir/master.cf: the packaged one without chroot (our queue is not a chroot
# jail), with the port-25 smtpd replaced by one on 127.0.0.1:PORT taking the given `-o` options
# (each "name=value", without spaces).
postfix_master_cf() {
  local port=$1
  shift
  awk -v port="$port" -v opts="$*" '
    /^smtp[ \t]+inet/ {
      print "127.0.0.1:" port " inet n - n - - smtpd"
      n = split(opts, o, " ")
      for (i = 1; i <= n; i++) print "  -o " o[i]
      next }
    /^[a-z]/ && NF >= 8 { $5 = "n" }
    { print }' /etc/postfix/master.cf >"$postfix_dir/master.cf"
  grep -q '^postlog' "$postfix_dir/master.cf" ||
    echo "postlog unix-dgram n - n - 1 postlogd" >>"$postfix_dir/master.cf"
}

# Lays out the queue directory QUEUE as postfix-files does and starts the master of
# $postfix_dir; returns once its smtpd listens on PORT. (`postfix -c DIR start` insists that DIR
# be listed in /etc/postfix/main.cf, which we leave alone: the master is started directly.)
start_postfix() {
  local queue=$1 port=$2
  for d in incoming active deferred bounce defer trace flush corrupt hold saved private; do
    install -d -o postfix -m 700 "$queue/$d"
  done
  install -d -o root -m 755 "$queue/pid"
  install -d -o postfix -g postdrop -m 710 "$queue/public"
  install -d -o postfix -g postdrop -m 730 "$queue/maildrop"
  MAIL_CONFIG="$postfix_dir" /usr/lib/postfix/sbin/master -c "$postfix_dir" -w || {
    echo "Postfix's master did not start (BENCH_POSTFIX_LOG=FILE under $postfix_dir keeps its log)" >&2
    exit 1
  }
  wait_port "$port"
}

# A private Postfix for the forwarding benchmarks (smtp_forward.sh, filter.sh): its directory
# DIR with the queue (on a tmpfs with BENCH_POSTFIX_QUEUE=tmpfs, then named in tmpfs_mounted),
# user@bench.test a virtual alias of dest@sink.bench.test, relayed to the sink on
# 127.0.0.1:SINK_PORT, and a main.cf tuned so Postfix is measured at its best: no inbound flow
# throttling, no reverse lookups of the client, full concurrency toward the sink from the start.
# The caller may append to DIR/main.cf.
postfix_forwarding_config() {  # dir sink-port sessions
  local dir=$1 sink_port=$2 sessions=$3 queue=$1/queue
  mkdir -p "$dir" "$queue" "$dir/data"
  if [ "${BENCH_POSTFIX_QUEUE:-disk}" = tmpfs ]; then
    mount -t tmpfs -o size=2g tmpfs "$queue"
    tmpfs_mounted="$queue"
  fi
  chown postfix "$dir/data"
  echo "user@bench.test dest@sink.bench.test" >"$dir/virtual"
  echo "sink.bench.test smtp:[127.0.0.1]:$sink_port" >"$dir/transport"
  cat >"$dir/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $queue
data_directory = $dir/data
myhostname = postfix.bench.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
virtual_alias_domains = bench.test
virtual_alias_maps = texthash:$dir/virtual
transport_maps = texthash:$dir/transport
smtp_dns_support_level = disabled
smtp_host_lookup = native
alias_maps =
local_recipient_maps =
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtp_destination_concurrency_limit = $sessions
default_destination_concurrency_limit = $sessions
in_flow_delay = 0
smtpd_peername_lookup = no
initial_destination_concurrency = $sessions
maillog_file = ${BENCH_POSTFIX_LOG:-/dev/null}
maillog_file_prefixes = /dev/null, $dir
CF
}
