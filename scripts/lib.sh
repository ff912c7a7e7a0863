# Shared by the benchmark scripts: start the server, sign in, read CSRF tokens.
# Expects BIN, PORT and work (a scratch folder) to be set.

base="http://127.0.0.1:$PORT"

# Starts `posthaste serve` in the background (stopped on exit) and waits for /healthz.
start_server() {
  "$BIN" serve >"$work/server.log" 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
  for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
}

# The CSRF token of the page at path $1, in the session of cookie jar $2.
csrf_of() {
  curl -s -c "$2" -b "$2" "$base$1" | sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p'
}

# Signs in as $1 (seed password) into cookie jar $2.
sign_in() {
  local token
  token=$(csrf_of /login "$2")
  curl -s -o /dev/null -c "$2" -b "$2" --data-urlencode "login=$1" \
    --data-urlencode "password=posthaste-seed" --data-urlencode "csrf_token=$token" \
    --data-urlencode "next=/" "$base/login"
}
