#!/usr/bin/env bash
# Delivery into sealed mailboxes versus Dovecot's LDA, on this machine.
#
# 1. sealpost_bench_mailbox delivers N messages one by one (each durable before the next, as the
#    MX does before answering 250) into an encrypted mailbox, into the same store unencrypted,
#    and into a locked mailbox's sealed spool; then opens a mailbox of OPEN messages as a login
#    does. Goals: encryption costs < 15%; opening 100,000 messages < 50 ms.
# 2. dovecot-lda delivers the same N messages into a Maildir (one process per message, as a
#    Postfix mailbox_command or pipe transport runs it), as an unprivileged user, with Dovecot's
#    default fsync policy. Goal: Sealpost at least as fast.
#
#   bench/mailbox.sh [-n MESSAGES] [-o OPEN_MESSAGES]
set -euo pipefail

messages=1000
open=100000
while getopts "n:o:" opt; do
  case $opt in
    n) messages=$OPTARG ;;
    o) open=$OPTARG ;;
    *) echo "usage: $0 [-n messages] [-o open_messages]" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
bench=${SEALPOST_BENCH_MAILBOX:-$root/build/sealpost_bench_mailbox}
lda=/usr/lib/dovecot/dovecot-lda
for b in "$bench" "$lda"; do
  [ -x "$b" ] || { echo "missing $b (make bench builds and installs what it needs)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/sealpost-mailbox-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

echo "== Sealpost"
"$bench" "$work/sealpost" "$messages" "$open" | tee "$work/sealpost.txt"
sealpost_rate=$(sed -n "s/^deliveries\/s encrypted mailbox: \([0-9]*\).*/\1/p" "$work/sealpost.txt")

echo "== Dovecot $(dovecot --version 2>/dev/null | cut -d' ' -f1) dovecot-lda into Maildir"
dv="$work/dovecot"
mkdir -p "$dv/run" "$dv/home"
cat >"$dv/dovecot.conf" <<CONF
protocols =
base_dir = $dv/run
log_path = $dv/dovecot.log
ssl = no
mail_location = maildir:$dv/Maildir
postmaster_address = postmaster@example.com
CONF
chmod -R a+rX "$work/sealpost/messages"
chown -R nobody:nogroup "$dv"
start=$(date +%s.%N)
runuser -u nobody -- env HOME="$dv/home" USER=nobody sh -c '
  for f in "$1"/*.eml; do
    "$2" -c "$3" -f sender@example.org -p "$f" || exit 1
  done' sh "$work/sealpost/messages" "$lda" "$dv/dovecot.conf"
end=$(date +%s.%N)
delivered=$(find "$dv/Maildir/new" -type f | wc -l)
[ "$delivered" -eq "$messages" ] || { echo "dovecot-lda delivered $delivered of $messages" >&2; exit 1; }
dovecot_rate=$(echo "$messages / ($end - $start)" | bc -l)
printf "deliveries/s dovecot-lda: %.0f\n" "$dovecot_rate"
printf "== Sealpost / Dovecot deliveries: %.1fx\n" "$(echo "$sealpost_rate / $dovecot_rate" | bc -l)"
