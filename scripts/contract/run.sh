#!/usr/bin/env bash
# Holds the server to its OpenAPI document: starts jangteo with zero configuration in a
# temporary directory (embedded SQLite, demo catalog), signs in an admin and a plain user,
# and runs Schemathesis (`--checks all`) against /openapi.json once with each token.
# Exits non-zero when Schemathesis reports any failure.
#
#   scripts/contract/run.sh [path/to/jangteo] [seconds per run]
#
# Schemathesis is installed into a virtualenv under ~/.cache/jangteo (PyPI; pinned below).
# One worker: with two, CPython 3.11's parser state is shared between Hypothesis threads
# ("AST constructor recursion depth mismatch").
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=$(realpath "${1:-${CARGO_TARGET_DIR:-target}/debug/jangteo}")
SECONDS_PER_RUN=${2:-90}
ST_VERSION=4.32.5
VENV="${JANGTEO_ST_VENV:-$HOME/.cache/jangteo/schemathesis-$ST_VERSION}"

if [ ! -x "$VENV/bin/st" ]; then
  echo "==> installing schemathesis $ST_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$ST_VERSION"
fi

WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
cleanup() {
  if [ -n "${SERVER:-}" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The fuzzer signs up and logs in far more often than a person: limits that would turn
# most of its requests into 429s are raised for this run (the limits have their own tests).
(
  cd "$WORK"
  JANGTEO_LOG_LEVEL=warn \
  JANGTEO_RATE_LIMITS__SIGNUP_PER_IP=100000 \
  JANGTEO_RATE_LIMITS__LOGIN_PER_IP=100000 \
  JANGTEO_RATE_LIMITS__LOGIN_FAILURES_PER_CLIENT=100000 \
  JANGTEO_RATE_LIMITS__LOGIN_SLOW_AFTER=100000 \
  JANGTEO_RATE_LIMITS__CODE_PER_IP=100000 \
  JANGTEO_RATE_LIMITS__CODE_PER_ACCOUNT=100000 \
    exec "$BIN" serve --listen "127.0.0.1:$PORT" >"$WORK/server.out" 2>"$WORK/server.err"
) &
SERVER=$!
for _ in $(seq 1 120); do
  curl -sf "$BASE/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -sf "$BASE/healthz" >/dev/null || { echo "jangteo did not start"; cat "$WORK/server.err"; exit 1; }

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
ADMIN_EMAIL=$(sed -n 's/^ *email: *//p' "$WORK/server.out" | head -n 1)
ADMIN_PASSWORD=$(sed -n 's/^ *password: *//p' "$WORK/server.out" | head -n 1)
login() {
  curl -sf -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\": \"$1\", \"password\": \"$2\"}" | json_field access_token
}
ADMIN=$(login "$ADMIN_EMAIL" "$ADMIN_PASSWORD")

USER_EMAIL=fuzz.user@example.com
USER_PASSWORD='a long fuzzing passphrase'
curl -sf -X POST "$BASE/api/v1/auth/signup" -H 'content-type: application/json' \
  -d "{\"email\": \"$USER_EMAIL\", \"password\": \"$USER_PASSWORD\"}" >/dev/null
# The mail is a job the server runs right after the sign-up commits: wait for its file.
CODE=""
for _ in $(seq 1 100); do
  CODE=$(grep -ho 'code is [0-9]\{6\}' "$WORK"/data/mail/*.eml 2>/dev/null | tail -n 1 | grep -o '[0-9]\{6\}' || true)
  [ -n "$CODE" ] && break
  sleep 0.1
done
[ -n "$CODE" ] || { echo "no verification mail within 10 s" >&2; exit 1; }
curl -sf -X POST "$BASE/api/v1/auth/verify" -H 'content-type: application/json' \
  -d "{\"email\": \"$USER_EMAIL\", \"code\": \"$CODE\"}" >/dev/null
USER=$(login "$USER_EMAIL" "$USER_PASSWORD")

status=0
for who in admin user; do
  token=$ADMIN; [ "$who" = user ] && token=$USER
  echo "==> schemathesis as $who ($SECONDS_PER_RUN s)"
  PYTHONPATH="$PWD/scripts/contract" SCHEMATHESIS_HOOKS=hooks \
  "$VENV/bin/st" --no-color --config-file scripts/contract/schemathesis.toml run "$BASE/openapi.json" \
    --checks all \
    --header "Authorization: Bearer $token" \
    --max-time "$SECONDS_PER_RUN" \
    --workers 1 \
    --seed 1 \
    --suppress-health-check all \
    --report junit --report-dir "$WORK/report-$who" \
    || status=1
done
if ! kill -0 "$SERVER" 2>/dev/null; then
  echo "the server is gone; its last words:"; tail -n 30 "$WORK/server.err" "$WORK/server.out"
  status=1
fi
if grep -q '"level":"ERROR"' "$WORK/server.out" 2>/dev/null; then
  echo "server logged errors:"; grep '"level":"ERROR"' "$WORK/server.out" | head -n 20
  status=1
fi
exit $status
