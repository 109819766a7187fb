#!/usr/bin/env bash
# A deployment hosting many businesses on one PostgreSQL database, measured: BUSINESSES (10,000)
# businesses with a line each and DECLINES (100) declines each, CALLS (10,000,000) logged calls
# spread over them and the last MONTHS (6) months; the import rate of IMPORT_ROWS (1,000,000)
# declines into one business with `saidno --business NAME import`; two release servers on the
# database under wrk (one wrk each, run at once, summed), calls spread over HOT (1,000) businesses,
# against the same run's minimal axum baseline (examples/bench_baseline.rs) under the same two wrk;
# each server's resident memory at start, after WARM (1,000) businesses were called once, and
# after the load; and the p99 of CHANGES (100) owner changes made at A until B refuses the call.
#
#   bench/hosting.sh postgres://postgres@127.0.0.1:5432/postgres
#
# PROFILE=debug runs the debug build instead (its memory and propagation figures hold roughly;
# its throughput does not). The url names a server on which the benchmark may create a database; it makes its own and drops
# it at the end. Needs psql, wrk and python3. One business (the template) is made with saidno's
# own commands, gets its declines by `import` and its first calls through the webhook; the other
# businesses, their declines and the bulk of the call log are copies of the template's rows made
# in SQL (the rows saidno wrote, with each business's id, line, times and call ids), with the
# hourly tallies the log's pages read summed from them. Last lines: `hosting NAME VALUE UNIT`.
set -euo pipefail
cd "$(dirname "$0")/.."
server=${1:?give the url of a PostgreSQL server}
businesses=${BUSINESSES:-10000}
declines=${DECLINES:-100}
calls=${CALLS:-10000000}
months=${MONTHS:-6}
import_rows=${IMPORT_ROWS:-1000000}
hot=${HOT:-1000}
warm=${WARM:-1000}
changes=${CHANGES:-100}
duration=${DURATION:-10}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
name=saidno_bench_hosting_$$
auth_token=bench-auth-token
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$server" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

profile=${PROFILE:-release}
if [ "$profile" = release ]; then cargo build --release --quiet --bin saidno --example bench_baseline
else cargo build --quiet --bin saidno --example bench_baseline; fi
saidno=target/$profile/saidno
psql "$server" -qc "CREATE DATABASE $name"
url="${server%/*}/$name"
sql() { psql "$url" -qAtX -v ON_ERROR_STOP=1 "$@"; }
say() { echo "[$(date -u +%T)] $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Two servers' configurations; A's also serves the operator's commands.
for instance in a b; do
  port=$(free_port)
  mkdir -p "$work/$instance"
  echo "$port" >"$work/$instance/port"
  cat >"$work/$instance/saidno.toml" <<TOML
listen = "127.0.0.1:$port"
data_dir = "$work/$instance/data"
public_url = "http://127.0.0.1:$port"
business_name = "Bench Hosting"
timezone = "UTC"
[admin]
operator_token = "bench-operator-token"
[store]
url = "$url"
[forward]
to = ["+442079460999"]
[twilio]
auth_token = "$auth_token"
[metrics]
listen = ""
TOML
done
cli() { "$saidno" --config "$work/a/saidno.toml" "$@"; }
address() { echo "http://127.0.0.1:$(cat "$work/$1/port")"; }
start() {
  "$saidno" --config "$work/$1/saidno.toml" serve 2>"$work/$1/log" >/dev/null &
  pids+=($!)
  echo $! >"$work/$1/pid"
  for _ in $(seq 600); do grep -q 'address=' "$work/$1/log" && return; sleep 0.1; done
  echo "server $1 did not start:" >&2; cat "$work/$1/log" >&2; exit 1
}
stop() { kill "$(cat "$work/$1/pid")"; wait "$(cat "$work/$1/pid")" 2>/dev/null || true; }
rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$(cat "$work/$1/pid")/status"; }

# The template: added, given its line and its declines by saidno's own commands.
printf 'business_name = "Business 0"\n' >"$work/business.toml"
cli business add b0 --settings "$work/business.toml" >"$work/b0.txt"
api_token=$(tail -1 "$work/b0.txt")
cli line add "$(python3 bench/hosting.py line 0)" --business b0 >/dev/null
python3 - "$work/declines.csv" "$declines" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("number,company,declined_at\n")
    for n in range(int(sys.argv[2])):
        f.write(f"+44207946{n:04d},Company {n % 50},2026-11-03T10:00:00Z\n")
PY
cli --business b0 import declines "$work/declines.csv" >/dev/null
template=$(sql -c "SELECT id FROM businesses WHERE name = 'b0'")

# The import rate: IMPORT_ROWS declines into a business of their own, which is then removed.
python3 bench/declines_csv.py "$work/import.csv" "$import_rows"
cli business add importer >/dev/null
say "importing $import_rows declines into one business"
started=$(date +%s.%N)
cli --business importer import declines "$work/import.csv" >/dev/null
import_seconds=$(python3 -c "import time; print(f'{time.time() - $started:.2f}')")
imported=$(sql -c "SELECT count(*) FROM declines d JOIN businesses b ON b.id = d.business_id WHERE b.name = 'importer'")
cli business remove importer --yes >/dev/null

# The template's first calls, through the webhook: put through, and refused.
start a
python3 bench/hosting.py mix "$(address a)" "$auth_token" "$(python3 bench/hosting.py line 0)" 40
sleep 2 # the call log writes in batches
stop a
line0=$(python3 bench/hosting.py line 0)
[ "$(sql -c "SELECT number FROM lines WHERE business_id = $template")" = "$line0" ] || {
  echo "lines are not stored as $line0; the copies below would not be found" >&2; exit 1; }

# The other businesses, copies of the template: their records, lines and declines.
say "adding $((businesses - 1)) businesses with $declines declines each"
started=$(date +%s.%N)
sql <<SQL
INSERT INTO businesses (name, settings)
  SELECT 'b' || k, format(E'business_name = "Business %s"\n', k) FROM generate_series(1, $businesses - 1) AS k;
CREATE TABLE bench_businesses AS
  SELECT substr(name, 2)::bigint AS k, id, '+442030' || lpad(substr(name, 2), 6, '0') AS line
  FROM businesses WHERE name ~ '^b[0-9]+$';
INSERT INTO lines (number, business_id) SELECT line, id FROM bench_businesses WHERE id <> $template;
INSERT INTO declines (business_id, target, number, record)
  SELECT b.id, d.target, d.number, d.record FROM declines d, bench_businesses b
  WHERE d.business_id = $template AND b.id <> $template;
INSERT INTO companies (business_id, key, name)
  SELECT b.id, c.key, c.name FROM companies c, bench_businesses b
  WHERE c.business_id = $template AND b.id <> $template;
SQL
business_seconds=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")

# The call log: the template's calls copied CALLS times over the businesses and the last months,
# each copy with its business, that business's line, a time, an id and a provider's id of its own.
say "logging $calls calls"
started=$(date +%s.%N)
for m in $(seq 0 "$months"); do
  month=$(sql -c "SELECT to_char(date_trunc('month', now() - interval '$m months'), 'YYYY-MM-DD')")
  next=$(sql -c "SELECT to_char(date_trunc('month', now() - interval '$m months') + interval '1 month', 'YYYY-MM-DD')")
  sql -c "CREATE TABLE IF NOT EXISTS calls_${month:0:4}_${month:5:2} PARTITION OF calls FOR VALUES FROM ('$month 00:00:00+00') TO ('$next 00:00:00+00')"
done
sql <<SQL
CREATE TABLE bench_calls AS
  SELECT row_number() OVER (ORDER BY id) - 1 AS k, * FROM calls WHERE business_id = $template;
INSERT INTO calls (business_id, at, id, call_id, caller, called, decision, reason, company, caller_name,
                   verification, outcome, follow_up, party, flagged, used_single_allow, heard)
  SELECT b.id, now() - interval '1 second' * (g::float8 * $months * 30 * 86400 / $calls), 1000000000 + g,
         'CA' || lpad(to_hex(g), 32, '0'), c.caller, b.line, c.decision, c.reason, c.company, c.caller_name,
         c.verification, c.outcome, c.follow_up, c.party, c.flagged, c.used_single_allow, c.heard
  FROM generate_series(0, $calls - 1) AS g
  JOIN bench_businesses b ON b.k = g % $businesses
  JOIN bench_calls c ON c.k = (g / $businesses) % (SELECT count(*) FROM bench_calls);
INSERT INTO tallies AS kept (business_id, hour, forwarded, refused, other)
  SELECT business_id, floor(extract(epoch FROM at) / 3600)::bigint, count(*) FILTER (WHERE decision = 0),
         count(*) FILTER (WHERE decision = 1), count(*) FILTER (WHERE decision > 1)
  FROM calls WHERE id >= 1000000000 GROUP BY 1, 2
  ON CONFLICT (business_id, hour) DO UPDATE SET forwarded = kept.forwarded + EXCLUDED.forwarded,
    refused = kept.refused + EXCLUDED.refused, other = kept.other + EXCLUDED.other;
SELECT FROM setval('call_ids', 1000000000 + $calls);
DROP TABLE bench_calls;
ANALYZE;
SQL
calls_seconds=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
database_mb=$(sql -c "SELECT pg_database_size(current_database()) / 1048576")
say "database: $(sql -c "SELECT count(*) FROM businesses") businesses, $(sql -c "SELECT count(*) FROM declines") declines, $(sql -c "SELECT count(*) FROM calls") calls, $database_mb MB"

# Two servers; nothing of a business is loaded until a request of its arrives.
start a
start b
sleep 1
rss_start_a=$(rss_mb a)
rss_start_b=$(rss_mb b)
say "resident at start: A $rss_start_a MB, B $rss_start_b MB"
python3 bench/hosting.py calls "$(address a)" "$auth_token" 0 "$warm"
rss_warm_a=$(rss_mb a)
per_business_kb=$(python3 -c "print(f'{($rss_warm_a - $rss_start_a) * 1024 / $warm:.0f}')")
say "A after calls to $warm businesses: $rss_warm_a MB ($per_business_kb KB each)"
python3 bench/hosting.py calls "$(address b)" "$auth_token" 0 "$hot"

# The load: one wrk per server, at once, calls spread over HOT businesses' lines.
for instance in a b; do
  LINES=$hot python3 bench/signed_requests.py "$(address "$instance")" "$auth_token" 20000 "$work/$instance.lua"
done
baseline_port=$(free_port)
python3 bench/signed_requests.py "http://127.0.0.1:$baseline_port" "$auth_token" 2000 "$work/baseline.lua"
target/$profile/examples/bench_baseline "127.0.0.1:$baseline_port" 2>"$work/baseline.log" & pids+=($!)
for _ in $(seq 200); do grep -q 'address=' "$work/baseline.log" && break; sleep 0.05; done
pair() { # script-a url-a script-b url-b: two wrk at once, 32 connections each; prints the summed req/s
  wrk -t1 -c32 -d"${duration}s" --latency -s "$work/$1.lua" "$2" -- 1 | grep '^RESULT' >"$work/wrk1" &
  local first=$!
  wrk -t1 -c32 -d"${duration}s" --latency -s "$work/$3.lua" "$4" -- 1 | grep '^RESULT' >"$work/wrk2"
  wait $first
  cat "$work/wrk1" "$work/wrk2" >&2
  awk '{ sum += $3; errors += $6 } END { printf "%.0f %d\n", sum, errors }' "$work/wrk1" "$work/wrk2"
}
say "load: baseline, then the two servers, ${duration}s each"
read -r baseline_rate _ < <(pair baseline "http://127.0.0.1:$baseline_port" baseline "http://127.0.0.1:$baseline_port")
read -r hosted_rate hosted_errors < <(pair a "$(address a)" b "$(address b)")
rss_load_a=$(rss_mb a)
rss_load_b=$(rss_mb b)

say "propagation: $changes owner changes at A, each until B refuses the call"
propagation=$(python3 bench/hosting.py propagation "$(address a)" "$(address b)" "$api_token" "$auth_token" "$line0" "$changes")
say "$propagation"
loaded_calls=$(sql -c "SELECT count(*) FROM calls")

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "hosting businesses $businesses count"
echo "hosting declines $(sql -c "SELECT count(*) FROM declines") rows"
echo "hosting calls $loaded_calls rows"
echo "hosting database $database_mb MB"
echo "hosting populate_businesses $business_seconds s"
echo "hosting populate_calls $calls_seconds s"
python3 -c "print(f'hosting import_rate {$imported / $import_seconds:.0f} rows/s ({$imported} rows in {$import_seconds} s)')"
echo "hosting rss_start $rss_start_a $rss_start_b MB (A B)"
echo "hosting rss_per_business $per_business_kb KB (A, after calls to $warm businesses)"
echo "hosting rss_after_load $rss_load_a $rss_load_b MB (A B)"
echo "hosting baseline $baseline_rate req/s"
echo "hosting throughput $hosted_rate req/s (two servers, $hosted_errors errors)"
python3 -c "print(f'hosting ratio {$hosted_rate / $baseline_rate:.2f} of baseline')"
echo "hosting propagation_p99 $(echo "$propagation" | sed 's/.*p99 \([0-9.]*\) ms.*/\1/') ms"
echo "hosting load_average $load"
