#!/usr/bin/env bash
# How long an owner change acknowledged by one server takes to be honoured by another on the same
# PostgreSQL database: two release servers, CHANGES (200) declines made one after another through
# A's admin API, each timed from A's acknowledgement until B's /api/v1/check refuses the number
# (B decides it from its snapshot, as it would a call). Prints p50, p99 and the slowest.
#
#   bench/propagation.sh postgres://postgres@127.0.0.1:5432/postgres
#
# The url names a server on which the benchmark may create a database; it makes its own and drops
# it at the end. psql must be on the PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
server=${1:?give the url of a PostgreSQL server}
changes=${CHANGES:-200}
name=saidno_bench_propagation_$$
token=bench-admin-token
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$server" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --release --quiet
psql "$server" -qc "CREATE DATABASE $name"
url="${server%/*}/$name"

# Starts a server in $work/$1 and prints its address once it listens.
serve() {
  mkdir -p "$work/$1"
  cat >"$work/$1/saidno.toml" <<TOML
listen = "127.0.0.1:0"
data_dir = "$work/$1/data"
business_name = "Bench Plumbing"
timezone = "UTC"
public_url = "https://saidno.example.com"
[admin]
token = "$token"
[store]
url = "$url"
[forward]
to = ["+442079460999"]
[twilio]
auth_token = "bench-auth-token"
[metrics]
listen = ""
TOML
  target/release/saidno --config "$work/$1/saidno.toml" serve 2>"$work/$1/log" >/dev/null &
  pids+=($!)
  for _ in $(seq 600); do
    address=$(grep -o 'address=[0-9.:]*' "$work/$1/log" | head -1 | cut -d= -f2 || true)
    if [ -n "$address" ]; then echo "$address"; return; fi
    sleep 0.1
  done
  echo "the server in $work/$1 did not start:" >&2
  cat "$work/$1/log" >&2
  exit 1
}

# Not in a subshell: the servers' pids must reach the cleanup.
serve a >"$work/a.address"
serve b >"$work/b.address"
python3 bench/propagation.py "http://$(cat "$work/a.address")" "http://$(cat "$work/b.address")" "$token" "$changes"
