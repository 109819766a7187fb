#!/usr/bin/env bash
# The soak: saidno's release build on loopback at a steady rate of signed calls, with admin reads
# and writes alongside; prints errors, lost call-log entries and resident memory through the run.
#   bench/soak.sh [SECONDS] [CALLS_PER_SECOND]     (default: 60 seconds at 200 calls a second)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
rate=${2:-200}
cargo build --quiet --release --bin saidno --example soak
exec target/release/examples/soak target/release/saidno --seconds "$seconds" --rate "$rate"
