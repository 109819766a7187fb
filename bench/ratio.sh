#!/usr/bin/env bash
# The webhook under load: signed POST /{provider}/voice (Twilio's by default) from wrk on loopback, call-log writes on, at 1,
# 16 and 64 connections, against saidno and, in the same run, against a minimal axum server that
# answers the same requests with fixed TwiML (examples/bench_baseline.rs). Prints a table; the last
# line is saidno's throughput at 64 connections as a share of the baseline's.
#
# Usage: bench/ratio.sh            (DURATION=10 seconds per run; PROVIDER=signalwire, telnyx, plivo
#                                  or vonage sends that provider's signed webhooks to its route
#                                  instead of Twilio's; needs wrk: apt-get install wrk, and for
#                                  telnyx python3-cryptography)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }

cargo build --release --quiet --bin saidno --example bench_baseline
saidno=target/release/saidno
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
saidno_port=$(free_port)
baseline_port=$(free_port)
token=bench-auth-token
provider=${PROVIDER:-twilio}
case "$provider" in
  twilio) provider_toml="[twilio]
auth_token = \"$token\"" ;;
  signalwire) provider_toml="[signalwire]
signing_key = \"$token\"" ;;
  telnyx)
    # A key pair of the benchmark's own: the seed signs the requests, the public key checks them.
    token=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
    public_key=$(python3 -c 'import base64, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sys.argv[1])).public_key()
print(base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode())' "$token")
    provider_toml="[telnyx]
public_key = \"$public_key\"" ;;
  plivo) provider_toml="[plivo]
auth_token = \"$token\"" ;;
  vonage) provider_toml="[vonage]
signature_secret = \"$token\"" ;;
  *) echo "PROVIDER is twilio, signalwire, telnyx, plivo or vonage" >&2; exit 1 ;;
esac
cat >"$work/saidno.toml" <<TOML
listen = "127.0.0.1:$saidno_port"
data_dir = "$work/data"
public_url = "http://127.0.0.1:$saidno_port"
business_name = "Acme Plumbing"
timezone = "UTC"
[forward]
to = ["+442079460999"]
$provider_toml
[metrics]
listen = ""
TOML

# A thousand declined numbers, so a quarter of the calls are refused.
python3 - "$work/declines.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("number,company,declined_at\n")
    for n in range(1000):
        f.write(f"+44207946{n:04d},Company {n % 50},2026-11-03T10:00:00Z\n")
PY
if "$saidno" --config "$work/saidno.toml" import --help >/dev/null 2>&1; then
  "$saidno" --config "$work/saidno.toml" import declines "$work/declines.csv" >/dev/null
else
  for n in $(seq 0 99); do "$saidno" --config "$work/saidno.toml" decline add "+44207946$(printf %04d "$n")" --force >/dev/null; done
fi

# Plivo's nonces and Vonage's token ids are taken once: each run against saidno gets requests of
# its own, more than it can send.
once=2000; case "$provider" in plivo | vonage) once=$((30000 * duration)) ;; esac
for connections in 1 16 64; do
  python3 bench/signed_requests.py "http://127.0.0.1:$saidno_port" "$token" "$once" "$work/saidno$connections.lua" \
    "$provider" $((connections * once))
done
python3 bench/signed_requests.py "http://127.0.0.1:$baseline_port" "$token" 2000 "$work/baseline.lua" "$provider"

wait_for() { for _ in $(seq 1 200); do grep -q "address=" "$1" 2>/dev/null && return 0; sleep 0.05; done; echo "$2 did not start" >&2; cat "$1" >&2; exit 1; }
"$saidno" --config "$work/saidno.toml" serve 2>"$work/saidno.log" & pids+=($!)
target/release/examples/bench_baseline "127.0.0.1:$baseline_port" 2>"$work/baseline.log" & pids+=($!)
wait_for "$work/saidno.log" saidno
wait_for "$work/baseline.log" baseline

run() { # script port connections
  local threads=2; [ "$3" -eq 1 ] && threads=1
  wrk -t"$threads" -c"$3" -d"${duration}s" --latency -s "$work/$1.lua" "http://127.0.0.1:$2" -- "$threads" | grep '^RESULT'
}

printf '%-9s %5s %10s %9s %9s %7s\n' server conns "req/s" "p50 ms" "p99 ms" errors
declare -A rate
for connections in 1 16 64; do
  for server in baseline saidno; do
    port=$baseline_port script=baseline
    [ "$server" = saidno ] && port=$saidno_port script=saidno$connections
    read -r _ requests per_second p50 p99 errors < <(run "$script" "$port" "$connections")
    rate[$server$connections]=$per_second
    printf '%-9s %5d %10.0f %9.3f %9.3f %7d\n' "$server" "$connections" "$per_second" "$p50" "$p99" "$errors"
  done
done
python3 -c "print(f'saidno/baseline throughput at 64 connections: {${rate[saidno64]} / ${rate[baseline64]}:.2f}')"
