#!/usr/bin/env bash
# Front-page benchmark: seeds a data set, signs in, and loads the signed-in front page with wrk,
# then the same server returning a static file of the same size, and reports req/s, latency
# percentiles and the server's RSS. See docs/performance.md.
#
#   scripts/bench.sh                       # SQLite, 100k posts
#   DATABASE_URL=mysql://root@127.0.0.1:3306/ph_bench scripts/bench.sh
#   POSTS=1000 scripts/bench.sh            # another data-set size
#   REPLIES=300000 BUSY_FRONT=30 scripts/bench.sh   # threads: spread replies, and 20 front-page
#                                                   # threads of 30 more replies each
#   POSTHASTE_PLUGINS= scripts/bench.sh    # every plugin off (default: the configured default, tags)
#   POSTHASTE_PLUGINS=tags,webhooks,mastodon-crosspost,secret-guard TAGGED=40 scripts/bench.sh
#                                          # all on; first publish 40 posts with #tags over HTTP
#                                          # (through the hooks) so tag pages and the sidebar have data
#
# Needs: a release build with --features mysql (built if missing), wrk, curl.
set -euo pipefail
cd "$(dirname "$0")/.."

POSTS="${POSTS:-100000}"
MEMBERS="${MEMBERS:-50}"
REPLIES="${REPLIES:-0}"
BUSY_FRONT="${BUSY_FRONT:-0}"
TAGGED="${TAGGED:-0}"
CONNS="${CONNS:-32}"
DURATION="${DURATION:-15s}"
THREADS="${THREADS:-2}"
PORT="${PORT_BENCH:-18181}"
BIN="${CARGO_TARGET_DIR:-target}/release/posthaste"

[ -x "$BIN" ] || cargo build --release --features mysql
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
work=$(mktemp -d /tmp/posthaste-bench.XXXX)
mkdir -p "$work/theme/assets"
export POSTHASTE_DATA_DIR="$work/data" POSTHASTE_GRAVATAR=false POSTHASTE_LOG=warn
export POSTHASTE_ADDR="127.0.0.1:$PORT" POSTHASTE_THEME_DIR="$work/theme"
if [ -n "${DATABASE_URL:-}" ]; then
  db="${DATABASE_URL##*/}"
  mariadb -uroot -e "DROP DATABASE IF EXISTS \`$db\`"
  backend=mysql
else
  backend=sqlite
fi

echo "seeding $POSTS posts, $MEMBERS members, $REPLIES replies, busy front $BUSY_FRONT ($backend)…"
/usr/bin/time -f "seed: %es, max RSS %MkB" "$BIN" seed --posts "$POSTS" --members "$MEMBERS" \
  --replies "$REPLIES" --busy-front "$BUSY_FRONT" >/dev/null

start_server
jar="$work/jar"
sign_in member1 "$jar"
cookie=$(awk '$6 == "posthaste_session" {print $6 "=" $7}' "$jar")
if [ "$TAGGED" -gt 0 ]; then
  csrf=$(csrf_of / "$jar")
  tags=(release design ops infra q3-planning mobile api docs hiring perf)
  for i in $(seq "$TAGGED"); do
    curl -s -o /dev/null -H "Cookie: $cookie" --data-urlencode "csrf_token=$csrf" \
      --data-urlencode "body=Status $i: shipped the #${tags[$((i % 10))]} work, next #${tags[$(((i + 3) % 10))]} (see https://example.com/$i)" \
      "http://127.0.0.1:$PORT/posts"
  done
  sleep 6 # one plugin tick, so the tags sidebar is filled
  echo "published $TAGGED tagged posts through the hooks (plugins: ${POSTHASTE_PLUGINS-default})"
fi
curl -s -H "Cookie: $cookie" "http://127.0.0.1:$PORT/" >"$work/theme/assets/bench.html"
size=$(wc -c <"$work/theme/assets/bench.html")
posts_on_page=$(grep -o '<article class="post"' "$work/theme/assets/bench.html" | wc -l)
replies_on_page=$( (grep -o '<div class="reply ' "$work/theme/assets/bench.html" || true) | wc -l)
[ "$posts_on_page" -gt 0 ] || { echo "not signed in: front page has no posts" >&2; exit 1; }
echo "front page: $size bytes, $posts_on_page posts, $replies_on_page replies shown"

rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$pid/status"; }
echo "RSS idle: $(rss)"
wrk -t"$THREADS" -c"$CONNS" -d5s -H "Cookie: $cookie" "http://127.0.0.1:$PORT/" >/dev/null # warm-up
echo "== signed-in front page ($backend, $POSTS posts, $CONNS connections, $DURATION)"
wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "Cookie: $cookie" "http://127.0.0.1:$PORT/" \
  | grep -E "Requests/sec|Latency|50%|99%|Non-2xx|Socket errors"
echo "RSS after load: $(rss)"
echo "== same server, static file of the same size (/assets/bench.html)"
wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$PORT/assets/bench.html" \
  | grep -E "Requests/sec|Latency|50%|99%|Non-2xx|Socket errors"
echo "RSS after static load: $(rss)"
