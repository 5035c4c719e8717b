#!/usr/bin/env bash
# API conformance: builds ringline, serves it on a fresh SQLite database with the demo data, logs
# in as the county administrator and runs schemathesis against /api/openapi.json with every check,
# sending the session cookie and the CSRF header. Prints the result and exits non-zero on any
# failure. See RELIABILITY.md, "API conformance".
#
#   scripts/schemathesis.sh                   # 100 examples per operation, fixed seed
#   MAX_EXAMPLES=500 SEED=1 scripts/schemathesis.sh
#
# Needs schemathesis (`pip install schemathesis`; 4.x) and curl. The run takes three passes, so
# that calls which end the session run last: everything else; resetting users' passwords (which
# may be the caller's own); logging out. Before each pass the administrator's password is set
# again from the command line and a new session opened.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PORT=${PORT:-18099}
MAX_EXAMPLES=${MAX_EXAMPLES:-100}
SEED=${SEED:-20261207}
PROFILE=${PROFILE:-dev}
PASSWORD='conformance-run-2026'
BASE="http://127.0.0.1:$PORT"

command -v schemathesis >/dev/null || { echo "schemathesis is not installed: pip install schemathesis" >&2; exit 1; }
echo "schemathesis: $(schemathesis --version)"

cargo build -p ringline --bin ringline --profile "$PROFILE"
case "$PROFILE" in dev) BIN="$ROOT/target/debug/ringline" ;; *) BIN="$ROOT/target/$PROFILE/ringline" ;; esac

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

cd "$WORK"
RINGLINE_ADMIN_PASSWORD="$PASSWORD" "$BIN" serve --bind "127.0.0.1:$PORT" >server.log 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
  curl -fs "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat server.log >&2; echo "the server stopped" >&2; exit 1; }
  sleep 1
done
curl -fs "$BASE/healthz" >/dev/null || { cat server.log >&2; echo "the server did not start" >&2; exit 1; }

# Logs in as admin (after setting the password again); prints "COOKIE CSRF".
login() {
  "$BIN" users enable admin >/dev/null 2>&1
  RINGLINE_NEW_PASSWORD="$PASSWORD" "$BIN" users reset-password admin >/dev/null 2>&1
  local body
  body=$(curl -fs -c cookies.txt -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/session")
  local cookie csrf
  cookie=$(awk '$6 == "ringline_session" {print $7}' cookies.txt)
  csrf=$(printf '%s' "$body" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
  echo "$cookie $csrf"
}

STATUS=0
# pass NAME [schemathesis filters …]
pass() {
  local name=$1
  shift
  read -r COOKIE CSRF < <(login)
  echo "== pass: $name"
  schemathesis --config-file "$ROOT/scripts/schemathesis.toml" run "$BASE/api/openapi.json" \
    --checks all --workers 1 --max-examples "$MAX_EXAMPLES" --seed "$SEED" \
    --header "Cookie: ringline_session=$COOKIE" --header "X-CSRF-Token: $CSRF" \
    --suppress-health-check too_slow,filter_too_much \
    "$@" || STATUS=1
}

pass "all but the calls that end the session" \
  --exclude-path /api/v1/session --exclude-method DELETE \
  --exclude-path-regex '^/api/v1/users/\{id\}/password$'
pass "password resets" --include-path-regex '^/api/v1/users/\{id\}/password$'
pass "sessions" --include-path /api/v1/session

if grep -q "panicked" server.log; then
  echo "the server log records a panic:" >&2
  grep -n "panicked" server.log >&2
  STATUS=1
fi
echo "== result: $([ $STATUS -eq 0 ] && echo "no failures" || echo "FAILURES (see above)")"
exit $STATUS
