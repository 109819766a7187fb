#!/usr/bin/env bash
# Every benchmark in one run, then one table: benchmark, figure, target, met.
#
#   bench/all.sh            full sizes: decisions at 10k/100k/1M declines, the webhook ratio (10 s
#                           per run), a 1M-row import, the footprint and log queries on 1M declines
#                           and 5M logged calls (filling them takes about five minutes)
#   QUICK=1 bench/all.sh    small sizes, a few minutes
# Sizes can be set one by one: SIZES (decision, comma-separated), DURATION (ratio, seconds), ROWS
# (import), DECLINES and LOG_ENTRIES (footprint and log queries). Each benchmark's own output goes
# to standard error; the table to standard output.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -n "${QUICK:-}" ]; then
  : "${SIZES:=10000,100000}" "${DURATION:=3}" "${ROWS:=100000}" "${DECLINES:=100000}" "${LOG_ENTRIES:=200000}"
fi
export DURATION=${DURATION:-10} ROWS=${ROWS:-1000000} DECLINES=${DECLINES:-1000000} LOG_ENTRIES=${LOG_ENTRIES:-5000000}
sizes=${SIZES:-10000,100000,1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows=()
row() { rows+=("$1|$2|$3|$4"); }
# met VALUE OP LIMIT: yes or no
met() { python3 -c "import sys; v, op, l = float(sys.argv[1]), sys.argv[2], float(sys.argv[3]); print('yes' if (v < l if op == '<' else v >= l) else 'no')" "$1" "$2" "$3"; }
fail() { row "$1" "failed (see above)" "$2" no; }

echo "== decision (declines: $sizes)" >&2
if cargo run --release --quiet --example bench_decision -- "$sizes" | tee "$work/decision.txt" >&2; then
  for size in ${sizes//,/ }; do
    # "SIZE MEDIAN P99   median ns by caller: DECLINED / ALLOWED / ..."
    read -r _ median p99 _ _ _ _ declined _ < <(awk -v n="$size" '$1 == n' "$work/decision.txt")
    row "decision, $size declines: median" "$median ns" "< 1000 ns" "$(met "$median" '<' 1000)"
    row "decision, $size declines: declined caller" "$declined ns" "< 2000 ns" "$(met "$declined" '<' 2000)"
    row "decision, $size declines: p99" "$p99 ns" "< 10000 ns" "$(met "$p99" '<' 10000)"
  done
else
  fail "decision" "median < 1000 ns"
fi

echo "== webhook throughput against the baseline (bench/ratio.sh, $DURATION s per run)" >&2
if ! command -v wrk >/dev/null; then
  row "webhook throughput, share of baseline at 64 conns" "not run: needs wrk (apt-get install -y wrk)" ">= 0.70" "-"
elif bench/ratio.sh | tee "$work/ratio.txt" >&2; then
  ratio=$(awk -F': ' '/throughput at 64/ { print $2 }' "$work/ratio.txt")
  saidno64=$(awk '$1 == "saidno" && $2 == 64 { printf "%.0f req/s, p99 %s ms", $3, $5 }' "$work/ratio.txt")
  row "webhook throughput, share of baseline at 64 conns" "$ratio ($saidno64)" ">= 0.70" "$(met "$ratio" '>=' 0.70)"
  p99=$(awk '$1 == "saidno" && $2 == 64 { print $5 }' "$work/ratio.txt")
  row "webhook p99 at 64 conns" "$p99 ms" "< 5 ms" "$(met "$p99" '<' 5)"
  p50=$(awk '$1 == "saidno" && $2 == 1 { print $4 }' "$work/ratio.txt")
  base50=$(awk '$1 == "baseline" && $2 == 1 { print $4 }' "$work/ratio.txt")
  times=$(python3 -c "print(f'{$p50 / $base50:.2f}')")
  row "webhook p50 at 1 conn, times the baseline's" "$times ($p50 vs $base50 ms)" "<= 1.5" "$(met "$times" '<' 1.5001)"
else
  fail "webhook throughput" ">= 0.70"
fi

echo "== import of $ROWS rows (bench/import.sh)" >&2
if bench/import.sh | tee "$work/import.txt" >&2; then
  read -r _ _ _ seconds _ per_second _ peak _ < <(tail -1 "$work/import.txt")
  row "import, $ROWS rows" "$per_second rows/s ($seconds s)" ">= 200000 rows/s" "$(met "$per_second" '>=' 200000)"
  row "import, peak memory" "$peak MB" "< 256 MB" "$(met "$peak" '<' 256)"
else
  fail "import" ">= 200000 rows/s"
fi

echo "== footprint: $DECLINES declines, $LOG_ENTRIES calls (bench/footprint.sh)" >&2
export DIR=$work/footprint
if bench/footprint.sh | tee "$work/footprint.txt" >&2; then
  figure() { awk -v n="$1" '$1 == "footprint" && $2 == n { print $3 }' "$work/footprint.txt"; }
  row "disk per decline" "$(figure disk_per_decline) bytes" "-" "-"
  row "disk per logged call" "$(figure disk_per_call) bytes" "<= 300 bytes" "$(met "$(figure disk_per_call)" '<' 300.001)"
  row "serve: resident memory (peak)" "$(figure rss) MB ($(figure peak_rss) MB)" "< 256 MB" "$(met "$(figure peak_rss)" '<' 256)"
  row "serve: start-up to /readyz" "$(figure startup) s" "< 2 s" "$(met "$(figure startup)" '<' 2)"
else
  fail "footprint" "-"
fi

echo "== log queries on the footprint's database (examples/log_pages.rs)" >&2
if cargo run --release --quiet --example log_pages -- "$LOG_ENTRIES" "$DIR" | tee "$work/log.txt" >&2; then
  for query in "first page" "filtered: refused only" "filtered: one number" "filtered: one company" \
    "deep page (cursor" "deep page of one company" "search" "dashboard"; do
    ms=$(grep -m1 -F "$query" "$work/log.txt" | awk '{ print $(NF-1) }')
    case $query in
      "first page") row "log page, first" "$ms ms" "< 5 ms" "$(met "$ms" '<' 5)" ;;
      search*) row "log page, search (stops after 20,000 calls)" "$ms ms" "-" "-" ;;
      *) row "log page, ${query% (cursor}" "$ms ms" "< 20 ms" "$(met "$ms" '<' 20)" ;;
    esac
  done
else
  fail "log queries" "-"
fi

if [ -n "${SOAK:-}" ]; then
  echo "== soak: $SOAK s at 200 calls/s (bench/soak.sh)" >&2
  if bench/soak.sh "$SOAK" 200 | tee "$work/soak.txt" >&2; then
    growth=$(sed -n 's/^memory flat: .*(\([-+0-9.]*\)% .*/\1/p' "$work/soak.txt")
    row "soak, resident memory from minute 2 to the end" "${growth}%" "within 10%" "$(met "${growth#-}" '<' 10.0001)"
  else
    fail "soak" "within 10%"
  fi
else
  row "soak, resident memory from minute 2 to minute 10" "not run: SOAK=600 bench/all.sh" "within 10%" "-"
fi

echo
{
  echo "benchmark|figure|target|met?"
  echo "---|---|---|---"
  printf '%s\n' "${rows[@]}"
} | column -t -s '|'
