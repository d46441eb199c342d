#!/usr/bin/env bash
# IMAP serving: Sealpost versus Dovecot, one after the other on this machine, same mailbox.
#
# bench/imap_load.py generates N messages (2-50 KB, every fifth with an attachment) into a
# Maildir; Dovecot (a private instance, tests/lib/dovecot.py: its own config, Maildir and ports
# under a temporary directory, /etc/dovecot untouched) serves that Maildir, Sealpost imports it
# (`sealpost mailbox import`). For each server:
#   1. logins/s (Sealpost runs Argon2id, 64 MiB, on every login: reported on its own);
#   2. C clients loop over SELECT, FETCH flags/headers/body, STORE, SEARCH UNSEEN and TEXT,
#      APPEND + UID EXPUNGE, IDLE for D seconds: operations/s, p50/p99 per operation;
#   3. I sessions logged in, SELECTed and IDLE: memory of the server's process tree per session
#      (RSS, and PSS which counts pages shared between Dovecot's processes once).
# Then the ratios Sealpost/Dovecot.
#
#   bench/imap.sh [-c CLIENTS] [-d SECONDS] [-i IDLE_SESSIONS] [-n MESSAGES] [-l LOGINS]
#                 [-p IDLE_PAUSE] [-s dovecot,sealpost] [-H]
#   -p sets each loop's IDLE pause (0.2 s; 0 makes the load phase saturate the server).
#   -H also measures Dovecot with imap_hibernate_timeout (its setting for many IDLE clients).
#   SEALPOST_BIN=path overrides build/sealpost.
set -euo pipefail

clients=20
duration=30
idle=1000
messages=2000
logins=100
servers=dovecot,sealpost
pause=0.2
while getopts "c:d:i:n:l:p:s:H" opt; do
  case $opt in
    c) clients=$OPTARG ;;
    d) duration=$OPTARG ;;
    i) idle=$OPTARG ;;
    n) messages=$OPTARG ;;
    l) logins=$OPTARG ;;
    p) pause=$OPTARG ;;
    s) servers=$OPTARG ;;
    H) servers="$servers,dovecot-hibernate" ;;
    *) echo "usage: $0 [-c clients] [-d seconds] [-i idle_sessions] [-n messages] [-l logins] [-p pause]" \
         "[-s dovecot,sealpost] [-H]" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
sealpost=${SEALPOST_BIN:-$root/build/sealpost}
need=(/usr/sbin/dovecot /usr/lib/dovecot/imap /usr/bin/python3)
[[ ,$servers, == *,sealpost,* ]] && need+=("$sealpost")
for b in "${need[@]}"; do
  [ -x "$b" ] || { echo "missing $b (make build; scripts/install-deps.sh test)" >&2; exit 1; }
done

# Every idle session is a socket here and one or more in the server (Dovecot: a process with
# its own descriptors, plus the log and anvil connections): raise the soft limit to the hard one.
want=$(( idle * 3 + clients * 4 + 2048 ))
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge "$want" ] || ulimit -Hn "$want" 2>/dev/null ||
  echo "note: open files hard limit $hard < $want: -i $idle may hit it" >&2
ulimit -Sn "$(ulimit -Hn)"

exec /usr/bin/python3 "$root/bench/imap_load.py" -c "$clients" -d "$duration" -i "$idle" \
  -n "$messages" -l "$logins" --idle-pause "$pause" --servers "$servers" \
  --sealpost-bin "$sealpost"
