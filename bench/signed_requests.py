#!/usr/bin/env python3
"""Writes a wrk script that cycles through signed Twilio voice webhooks.

Usage: signed_requests.py PUBLIC_URL AUTH_TOKEN COUNT OUT.lua

Every fourth request comes from a declined number (+44207946 0000..0999, seeded by the benchmark);
the rest from numbers with no record. Each has its own CallSid and its own X-Twilio-Signature,
computed as Twilio does: base64(HMAC-SHA1(token, url + sorted name+value pairs)).
"""
import base64
import hashlib
import hmac
import sys
import urllib.parse

url, token, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
signed_url = url.rstrip("/") + "/twilio/voice"


def lua(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


lines = ["local requests = {}"]
for n in range(count):
    caller = f"+44207946{n % 1000:04d}" if n % 4 == 0 else f"+44207947{n % 10000:04d}"
    params = {
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "ApiVersion": "2010-04-01",
        "CallSid": f"CA{n:032x}",
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": caller,
        "To": "+442079460000",
        "Caller": caller,
        "Called": "+442079460000",
    }
    payload = signed_url + "".join(k + params[k] for k in sorted(params))
    signature = base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()
    body = urllib.parse.urlencode(params)
    headers = '{["Content-Type"] = "application/x-www-form-urlencoded", ["X-Twilio-Signature"] = ' + lua(signature) + "}"
    lines.append(f'requests[{n + 1}] = wrk.format("POST", "/twilio/voice", {headers}, {lua(body)})')

lines.append("""
local next = 0
request = function()
  next = next % #requests + 1
  return requests[next]
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %d %.1f %.3f %.3f %d\\n", summary.requests,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors))
end
""")
with open(out, "w") as f:
    f.write("\n".join(lines))
