#!/usr/bin/env bash
# Footprint: bytes on disk per decline and per call-log entry, the resident memory of
# `saidno serve` on that database once it has answered webhooks and log pages, and its start-up
# time (from exec to /readyz answering 200).
#
# Usage: bench/footprint.sh        DECLINES=1000000 LOG_ENTRIES=5000000 (the full sizes: filling
#                                  five million calls takes about five minutes)
#        DECLINES=100000 LOG_ENTRIES=200000 bench/footprint.sh        (a quick run)
#        DIR=/tmp/saidno-footprint bench/footprint.sh   keeps the database there, and later runs
#                                  with the same sizes skip the fill
# The last lines read "footprint NAME VALUE UNIT", one per figure.
set -euo pipefail
cd "$(dirname "$0")/.."
declines=${DECLINES:-1000000}
entries=${LOG_ENTRIES:-5000000}
requests=${REQUESTS:-2000}

cargo build --release --quiet --bin saidno --example log_pages
saidno=$PWD/target/release/saidno
work=$(mktemp -d)
dir=${DIR:-$work/data}
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=footprint-auth-token
admin=footprint-admin-token
cat >"$work/saidno.toml" <<TOML
listen = "127.0.0.1:$port"
data_dir = "$dir"
public_url = "http://127.0.0.1:$port"
business_name = "Acme Plumbing"
timezone = "UTC"
[forward]
to = ["+442079460999"]
[twilio]
auth_token = "$token"
[admin]
token = "$admin"
[metrics]
listen = ""
TOML

size() { du -sb "$dir" | cut -f1; }
sizes="$declines declines, $entries calls"
if [ "$(cat "$dir/footprint-sizes" 2>/dev/null)" != "$sizes" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  start=$(size)
  python3 bench/declines_csv.py "$work/declines.csv" "$declines"
  "$saidno" --config "$work/saidno.toml" import declines "$work/declines.csv" >/dev/null
  rm "$work/declines.csv"
  after_declines=$(size)
  # The call log, written as the server's call-log writer writes it (see examples/log_pages.rs).
  target/release/examples/log_pages "$entries" "$dir" >"$work/log_pages.txt"
  after_calls=$(size)
  echo "$(( (after_declines - start) / declines )) $(( (after_calls - after_declines) / entries ))" >"$dir/footprint-bytes"
  echo "$sizes" >"$dir/footprint-sizes"
fi
read -r per_decline per_call <"$dir/footprint-bytes"

ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ]; }
started=$(date +%s.%N)
"$saidno" --config "$work/saidno.toml" serve 2>"$work/serve.log" &
pid=$!
until ready; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.01
done
startup=$(python3 -c "import time; print(f'{time.time() - $started:.2f}')")

# Webhooks from a mix of declined numbers (from the imported list) and unknown ones, then pages of
# the call log through the admin API: newest, refused only, one number, one company, deep.
python3 - "http://127.0.0.1:$port" "$token" "$admin" "$requests" <<'PY'
import base64, hashlib, hmac, sys, urllib.parse, urllib.request
url, token, admin, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
refused = 0
for n in range(count):
    caller = f"+44161{(n // 2) * 7919 % 10 ** 7:07d}" if n % 2 else f"+44208{n:07d}"
    params = {"AccountSid": "AC0123456789abcdef0123456789abcdef", "CallSid": f"CAfootprint{n:021x}",
              "CallStatus": "ringing", "Direction": "inbound", "From": caller, "To": "+442079460000"}
    payload = url + "/twilio/voice" + "".join(k + params[k] for k in sorted(params))
    signature = base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()
    request = urllib.request.Request(url + "/twilio/voice", data=urllib.parse.urlencode(params).encode(),
                                     headers={"X-Twilio-Signature": signature})
    body = urllib.request.urlopen(request).read().decode()
    refused += "Reject" in body or "remove this number" in body
pages = ["", "declined=true", "number=%2B442079400007", "company=company%2070", "q=CA0000000000000000000000000000ffff"]
for query in pages * 20:
    request = urllib.request.Request(f"{url}/api/v1/calls?limit=50&{query}", headers={"Authorization": f"Bearer {admin}"})
    urllib.request.urlopen(request).read()
print(f"{count} webhooks ({refused} refused), {len(pages) * 20} log pages", file=sys.stderr)
PY
rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
hwm_kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
echo "database: $(du -sh "$dir" | cut -f1) for $sizes" >&2
echo "footprint disk_per_decline $per_decline bytes"
echo "footprint disk_per_call $per_call bytes"
echo "footprint rss $((rss_kb / 1024)) MB"
echo "footprint peak_rss $((hwm_kb / 1024)) MB"
echo "footprint startup $startup s"
