#!/usr/bin/env bash
# Fuzzes the admin API against its own OpenAPI description with schemathesis: the real binary on
# a free loopback port with a data folder of its own, a few records to list, every operation sent
# examples, boundary values and random input with the admin token, and every answer checked to be
# no server error and to match the description. Exits non-zero on the first kind of failure.
#   tests/schema/run.sh [MAX_EXAMPLES]      (default 30 per operation; needs python3 with venv)
set -euo pipefail
cd "$(dirname "$0")/../.."
max_examples=${1:-30}
version=4.32.5
venv=target/schemathesis-$version

if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi
cargo build --quiet --locked --bin saidno

work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

token=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
operator_token=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
cat >"$work/saidno.toml" <<TOML
listen = "127.0.0.1:0"
data_dir = "$work/data"
timezone = "UTC"
[admin]
token = "$token"
operator_token = "$operator_token"
[metrics]
listen = ""
TOML
target/debug/saidno --config "$work/saidno.toml" serve 2>"$work/server.log" &
server=$!
for _ in $(seq 1 600); do
  [ -s "$work/data/server.json" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
url=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["url"])' "$work/data/server.json")
api="$url/api/v1"
auth="Authorization: Bearer $token"

# Something to list: a company with two numbers, a range, an allow, and calls in the log
# (without a Twilio auth token the loopback-only server takes unsigned webhooks).
post() { curl --silent --show-error --fail -H "$auth" -H 'content-type: application/json' -d "$2" "$api$1" >/dev/null; }
post /declines '{"number": "+442079460123", "company": "Everest Windows", "note": "kitchen upsell"}'
post /declines '{"number": "+442079460124", "company": "Everest Windows"}'
post /declines '{"number": "+4416329601*", "company": "Rotating Ltd"}'
post /allows '{"number": "+442079460555", "name": "Mum"}'
for from in +442079460123 +442079460555 +442079460777; do
  curl --silent --show-error --fail -d "CallSid=CA${from#+}&From=${from/+/%2B}&To=%2B442079460000" \
    "$url/twilio/voice" >/dev/null
done
curl --silent --show-error --fail -H "$auth" -X PUT -H 'content-type: application/json' -d '{"held": true}' \
  "$api/companies/company%3Aeverest%20windows/legal-hold" >/dev/null
curl --silent --show-error --fail -H "$auth" "$api/openapi.json" -o "$work/openapi.json"

set +e
# One worker: Python 3.11's ast.parse is not thread-safe, and hypothesis calls it while describing
# its strategies, so two workers can fail with "AST constructor recursion depth mismatch".
# Each API with its own token: the admin API's routes, then the operator's.
fuzz() {
  "$venv/bin/st" run "$work/openapi.json" --url "$api" \
    "$@" \
    --checks not_a_server_error,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$max_examples" \
    --max-time 120 \
    --request-timeout 20 \
    --workers 1 \
    --seed "${SCHEMA_SEED:-20261125}" \
    --suppress-health-check too_slow \
    --no-color \
    ${SCHEMA_REPORT:+--report har --report-dir "$SCHEMA_REPORT"}
}
fuzz --header "$auth" --exclude-path-regex '^/operator/'
status=$?
if [ "$status" -eq 0 ]; then
  fuzz --header "Authorization: Bearer $operator_token" --include-path-regex '^/operator/'
  status=$?
fi
set -e
if [ "$status" -ne 0 ]; then
  kill -0 "$server" 2>/dev/null || echo "the server is no longer running" >&2
  echo "schemathesis found failures; the end of the server's log:" >&2
  tail -20 "$work/server.log" >&2
fi
exit "$status"
