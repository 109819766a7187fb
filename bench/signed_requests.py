#!/usr/bin/env python3
"""Writes a wrk script that cycles through signed voice webhooks of one provider.

Usage: signed_requests.py PUBLIC_URL KEY COUNT OUT.lua [PROVIDER] [FIRST]

PROVIDER is twilio (the default), signalwire, telnyx, plivo or vonage; KEY is the auth token, the
signing key, the signature secret, or for telnyx the hex seed of the Ed25519 key pair the
benchmark configured. Every fourth request comes from a declined number (+44207946 0000..0999,
seeded by the benchmark); the rest from numbers with no record. Each has its own call id and its
own signature, computed as the provider computes it: base64(HMAC-SHA1(key, url + sorted
name+value pairs)) in X-Twilio-Signature or X-SignalWire-Signature; Ed25519 over
"timestamp|body" (valid for five minutes from now); Plivo's V3, base64(HMAC-SHA256(key, url +
"?" + sorted namevalue pairs + "." + nonce)); or Vonage's HS256 token over the JSON body's hash.
Plivo's nonces and Vonage's token ids are taken once, so those requests are numbered from FIRST
and a run must not send more than COUNT of them. LINES=N in the environment (Twilio's and
SignalWire's only) spreads the calls over N lines, +44 20 30nn nnnn from +44 20 3000 0000, as a
deployment hosting many businesses has. The requests are written beside the script
(OUT.lua.requests), one after another, each after its length on a line of its own; each wrk
thread takes every n-th (the script is given wrk's thread count after "--"), so no two threads
send the same one.
"""
import base64
import hashlib
import hmac
import json
import sys
import time
import os
import urllib.parse

url, token, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
provider = sys.argv[5] if len(sys.argv) > 5 else "twilio"
first = int(sys.argv[6]) if len(sys.argv) > 6 else 0
path = f"/{provider}/answer" if provider == "vonage" else f"/{provider}/voice"
signed_url = url.rstrip("/") + path
host = urllib.parse.urlsplit(url).netloc
if provider == "telnyx":
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    telnyx_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(token))
timestamp = str(int(time.time()))
lines = int(os.environ.get("LINES", "0"))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(n, caller):
    """The body, its content type and the signature headers of request n."""
    if provider == "vonage":
        body = json.dumps({"from": caller[1:], "to": "442079460000", "uuid": f"{n:032x}",
                           "conversation_uuid": f"CON-{n:032x}", "region_url": "https://api-eu-3.vonage.com"})
        claims = {"iat": int(timestamp), "jti": f"bench-{n}", "iss": "Vonage",
                  "payload_hash": hashlib.sha256(body.encode()).hexdigest(),
                  "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"}
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = b64url(json.dumps(claims).encode())
        mac = hmac.new(token.encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()
        return body, "application/json", {"Authorization": f"Bearer {head}.{payload}.{b64url(mac)}"}
    if provider == "plivo":
        params = {"CallUUID": f"{n:08x}-58b6-11e1-86da-77300b68f8bb", "CallStatus": "ringing",
                  "Direction": "inbound", "Event": "StartApp", "From": caller[1:], "To": "442079460000"}
        nonce = str(n)
        text = signed_url + "?" + "".join(k + params[k] for k in sorted(params)) + "." + nonce
        signature = base64.b64encode(hmac.new(token.encode(), text.encode(), hashlib.sha256).digest()).decode()
        headers = {"X-Plivo-Signature-V3": signature, "X-Plivo-Signature-V3-Nonce": nonce}
        return urllib.parse.urlencode(params), "application/x-www-form-urlencoded", headers
    params = {
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "ApiVersion": "2010-04-01",
        "CallSid": f"CA{n:032x}" if provider != "telnyx" else f"v3:{n:032x}",
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": caller,
        "To": f"+442030{n % lines:06d}" if lines else "+442079460000",
        "Caller": caller,
    }
    params["Called"] = params["To"]
    body = urllib.parse.urlencode(params)
    if provider == "telnyx":
        signature = base64.b64encode(telnyx_key.sign(f"{timestamp}|{body}".encode())).decode()
        return body, "application/x-www-form-urlencoded", {"telnyx-signature-ed25519": signature, "telnyx-timestamp": timestamp}
    payload = signed_url + "".join(k + params[k] for k in sorted(params))
    signature = base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()
    header = "X-SignalWire-Signature" if provider == "signalwire" else "X-Twilio-Signature"
    return body, "application/x-www-form-urlencoded", {header: signature}


with open(out + ".requests", "wb") as requests:
    for n in range(first, first + count):
        caller = f"+44207946{n % 1000:04d}" if n % 4 == 0 else f"+44207947{n % 10000:04d}"
        body, content_type, headers = signed(n, caller)
        head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        raw = (head + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n" + body).encode()
        requests.write(f"{len(raw)}\n".encode() + raw)

with open(out, "w") as f:
    f.write("""
local threads = {}
setup = function(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local requests, next, stride = {}, 0, 1
init = function(args)
  local file = assert(io.open(%s, "rb"))
  while true do
    local length = file:read("*l")
    if not length then break end
    requests[#requests + 1] = file:read(tonumber(length))
  end
  file:close()
  -- wrk is run with its thread count after "--".
  stride = tonumber(args[1]) or 1
  next = tonumber(wrk.thread:get("id")) or 0
end

request = function()
  local this = requests[next %% #requests + 1]
  next = next + stride
  return this
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %%d %%.1f %%.3f %%.3f %%d\\n", summary.requests,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors))
end
""" % json.dumps(out + ".requests"))
