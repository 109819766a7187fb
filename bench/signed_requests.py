#!/usr/bin/env python3
"""Writes a wrk script that cycles through signed voice webhooks of one provider.

Usage: signed_requests.py PUBLIC_URL KEY COUNT OUT.lua [PROVIDER]

PROVIDER is twilio (the default), signalwire or telnyx; KEY is the auth token, the signing key,
or for telnyx the hex seed of the Ed25519 key pair the benchmark configured. Every fourth request
comes from a declined number (+44207946 0000..0999, seeded by the benchmark); the rest from
numbers with no record. Each has its own call id and its own signature, computed as the provider
computes it: base64(HMAC-SHA1(key, url + sorted name+value pairs)) in X-Twilio-Signature or
X-SignalWire-Signature, or Ed25519 over "timestamp|body" (valid for five minutes from now).
"""
import base64
import hashlib
import hmac
import sys
import time
import urllib.parse

url, token, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
provider = sys.argv[5] if len(sys.argv) > 5 else "twilio"
path = f"/{provider}/voice"
signed_url = url.rstrip("/") + path
if provider == "telnyx":
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    telnyx_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(token))
    timestamp = str(int(time.time()))


def lua(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


lines = ["local requests = {}"]
for n in range(count):
    caller = f"+44207946{n % 1000:04d}" if n % 4 == 0 else f"+44207947{n % 10000:04d}"
    params = {
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "ApiVersion": "2010-04-01",
        "CallSid": f"CA{n:032x}" if provider != "telnyx" else f"v3:{n:032x}",
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": caller,
        "To": "+442079460000",
        "Caller": caller,
        "Called": "+442079460000",
    }
    body = urllib.parse.urlencode(params)
    if provider == "telnyx":
        signature = base64.b64encode(telnyx_key.sign(f"{timestamp}|{body}".encode())).decode()
        signed = f'["telnyx-signature-ed25519"] = {lua(signature)}, ["telnyx-timestamp"] = {lua(timestamp)}'
    else:
        payload = signed_url + "".join(k + params[k] for k in sorted(params))
        signature = base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()
        header = "X-SignalWire-Signature" if provider == "signalwire" else "X-Twilio-Signature"
        signed = f'["{header}"] = {lua(signature)}'
    headers = '{["Content-Type"] = "application/x-www-form-urlencoded", ' + signed + "}"
    lines.append(f'requests[{n + 1}] = wrk.format("POST", {lua(path)}, {headers}, {lua(body)})')

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
