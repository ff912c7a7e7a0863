#!/usr/bin/env bash
# Posting latency with 50 @mentions vs none: mail must not be on the request path. Posts N
# times (sequentially, signed in) each way and prints p50/p99/max of the request time, with
# the SMTP server unreachable (so every mail job fails and is retried in the background).
#
#   scripts/bench_mentions.sh            # SQLite
#   DATABASE_URL=mysql://root@127.0.0.1:3306/ph_bench_m scripts/bench_mentions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-100}"
PORT="${PORT_BENCH:-18186}"
BIN="${CARGO_TARGET_DIR:-target}/release/posthaste"
[ -x "$BIN" ] || cargo build --release --features mysql
work=$(mktemp -d /tmp/posthaste-bench-m.XXXX)
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
export POSTHASTE_DATA_DIR="$work/data" POSTHASTE_LOG=warn POSTHASTE_ADDR="127.0.0.1:$PORT"
# A port nothing listens on: every SMTP attempt fails fast and is retried later.
export POSTHASTE_SMTP_URL="smtp://127.0.0.1:9"
if [ -n "${DATABASE_URL:-}" ]; then mariadb -uroot -e "DROP DATABASE IF EXISTS \`${DATABASE_URL##*/}\`"; fi
"$BIN" seed --posts 100 --members 60 >/dev/null
start_server
jar="$work/jar"
sign_in member1 "$jar"
token=$(csrf_of / "$jar")
mentions=$(for i in $(seq 2 51); do printf '@member%s ' "$i"; done)
run() { # label body
  for i in $(seq "$N"); do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -b "$jar" --data-urlencode "body=$2 ($i)" \
      --data-urlencode csrf_token="$token" "http://127.0.0.1:$PORT/posts"
  done | awk '$1 != 303 { print "unexpected status " $1 > "/dev/stderr"; exit 1 } { print $2 }' \
    | sort -n | awk -v label="$1" '{ t[NR] = $1 * 1000 } END {
    printf "%-24s n=%d  p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", label, NR, t[int(NR*0.5)], t[int(NR*0.99)], t[NR] }'
}
run "no mentions" "Status update with no mentions"
run "50 mentions" "Please review, $mentions"
sleep 1
echo "mail jobs: $(grep -c 'job failed' "$work/server.log" || true) failed tries logged so far (SMTP unreachable, retried later)"
