#!/usr/bin/env bash
# Bulk import: writes a CSV of ROWS declined numbers (UK and US, national and international forms,
# a third of them naming one of 2,000 companies), imports it with the release binary's
# `saidno import declines FILE` into a fresh data folder, and prints rows per second and the
# process's peak resident memory.
#
# Usage: bench/import.sh                (ROWS=1000000; COLUMNS="number,company,declined_at", or
#                                        "number" for a published list of bare numbers; NATIONAL=0
#                                        writes every number in E.164, none nationally)
# The last line reads: import ROWS rows SECONDS s ROWS_PER_SECOND rows/s PEAK_MB MB peak
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-1000000}
columns=${COLUMNS:-number,company,declined_at}

[ -x /usr/bin/time ] || { echo "GNU time is needed: apt-get install -y time" >&2; exit 1; }
cargo build --release --quiet --bin saidno
saidno=$PWD/target/release/saidno
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/saidno.toml" <<TOML
data_dir = "$work/data"
region = "GB"
[metrics]
listen = ""
TOML

python3 bench/declines_csv.py "$work/declines.csv" "$rows" "$columns"
echo "wrote $rows rows ($(du -h "$work/declines.csv" | cut -f1)) with columns $columns" >&2

/usr/bin/time -v "$saidno" --config "$work/saidno.toml" import declines "$work/declines.csv" \
  >"$work/out.txt" 2>"$work/time.txt" || { cat "$work/out.txt" "$work/time.txt" >&2; exit 1; }
head -3 "$work/out.txt" >&2
seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/time.txt")
peak_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
echo "on disk: $(du -sh "$work/data" | cut -f1)" >&2
python3 -c "print(f'import {$rows} rows {$seconds:.2f} s {$rows / max($seconds, 0.01):.0f} rows/s {$peak_kb / 1024:.0f} MB peak')"
