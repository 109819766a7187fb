#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) on the stable toolchain, then prints how
# many inputs each one tried. A crash stops the run and leaves the input in fuzz/artifacts/TARGET.
#   fuzz/run.sh [SECONDS] [TARGET...]        (needs `cargo install cargo-fuzz`)
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
summary=()
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  # Seeds are checked in; what the fuzzer finds on top of them stays in corpus/ (not checked in).
  log=$(mktemp)
  set +e
  cargo fuzz run "$target" --sanitizer none "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -max_len=4096 >"$log" 2>&1
  status=$?
  set -e
  if [ "$status" -ne 0 ]; then
    grep -v -E '^ +([0-9]+: |at )' "$log" | tail -40
    echo "fuzz target $target failed; the input is in fuzz/artifacts/$target" >&2
    exit 1
  fi
  summary+=("$target: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1)")
  rm -f "$log"
done
printf '%s\n' "${summary[@]}"
