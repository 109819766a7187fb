#!/usr/bin/env python3
"""Signed calls for the hosting benchmark (see hosting.sh), sent one at a time.

Usage:
  hosting.py line N                                  the line of business N (+44 20 30nn nnnn)
  hosting.py calls URL AUTH_TOKEN FIRST COUNT        one call to each of COUNT lines from FIRST
  hosting.py mix URL AUTH_TOKEN LINE COUNT            COUNT calls to LINE, every other one from a
                                                     declined number (+44 20 7946 00nn)
  hosting.py propagation A B API_TOKEN AUTH_TOKEN LINE CHANGES

`propagation` declines a fresh number through A's admin API with the business's token, then, from
A's acknowledgement, calls the business's LINE at B from that number, as fast as B answers, until
B's answer no longer puts the call through; it prints p50, p99 and the slowest.
"""
import base64
import hashlib
import hmac
import json
import sys
import time
import urllib.parse
import urllib.request

GIVE_UP_AFTER = 30.0


def line(n):
    return f"+442030{n:06d}"


def call(url, auth_token, to, caller, sid):
    """Posts a Twilio voice webhook signed as Twilio signs it; returns the answer's TwiML."""
    params = {"CallSid": sid, "CallStatus": "ringing", "Direction": "inbound", "From": caller, "To": to,
              "AccountSid": "AC0123456789abcdef0123456789abcdef"}
    signed_url = url.rstrip("/") + "/twilio/voice"
    payload = signed_url + "".join(k + params[k] for k in sorted(params))
    signature = base64.b64encode(hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()).decode()
    request = urllib.request.Request(signed_url, data=urllib.parse.urlencode(params).encode(), method="POST")
    request.add_header("X-Twilio-Signature", signature)
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def calls(url, auth_token, first, count):
    for n in range(first, first + count):
        answer = call(url, auth_token, line(n), "+447700900123", f"CAwarm{n:026d}")
        if "<Dial" not in answer:
            sys.exit(f"the call to {line(n)} was not put through: {answer}")


def mix(url, auth_token, to, count):
    for k in range(count):
        caller = f"+44207946{k % 100:04d}" if k % 2 else f"+447700900{k % 1000:03d}"
        call(url, auth_token, to, caller, f"CAmix{k:027d}")


def propagation(a, b, api_token, auth_token, to, changes):
    times = []
    for n in range(changes):
        number = f"+44161496{n:04d}"
        body = json.dumps({"number": number}).encode()
        request = urllib.request.Request(f"{a}/api/v1/declines", data=body, method="POST")
        request.add_header("Authorization", f"Bearer {api_token}")
        request.add_header("Content-Type", "application/json")
        urllib.request.urlopen(request, timeout=10).read()
        acknowledged = time.monotonic()
        attempt = 0
        while "<Dial" in call(b, auth_token, to, number, f"CAprop{n:08d}x{attempt:016d}"):
            attempt += 1
            if time.monotonic() - acknowledged > GIVE_UP_AFTER:
                sys.exit(f"{number} was not refused at B within {GIVE_UP_AFTER} s")
        times.append((time.monotonic() - acknowledged) * 1000)
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(len(times) * q / 100))]
    print(f"changes {len(times)}  p50 {p(50):.1f} ms  p99 {p(99):.1f} ms  slowest {times[-1]:.1f} ms")


command = sys.argv[1]
if command == "line":
    print(line(int(sys.argv[2])))
elif command == "calls":
    calls(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
elif command == "mix":
    mix(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
elif command == "propagation":
    propagation(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], int(sys.argv[7]))
else:
    sys.exit(__doc__)
