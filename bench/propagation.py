#!/usr/bin/env python3
"""Times owner changes from one server to another: see propagation.sh.

Usage: propagation.py A_URL B_URL ADMIN_TOKEN CHANGES

Each change declines a number of its own through A's admin API; once A acknowledges it, B's
/api/v1/check is asked about the number, as fast as it answers, until it says decline. The time
from the acknowledgement to that answer is the change's propagation.
"""
import json
import sys
import time
import urllib.parse
import urllib.request

a, b, token, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
GIVE_UP_AFTER = 30.0


def request(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.load(response)


times = []
for n in range(count):
    number = f"+44207946{n:04d}"
    request("POST", f"{a}/api/v1/declines", {"number": number})
    acknowledged = time.monotonic()
    check = f"{b}/api/v1/check?number={urllib.parse.quote(number)}"
    while request("GET", check)["decision"] != "decline":
        if time.monotonic() - acknowledged > GIVE_UP_AFTER:
            sys.exit(f"{number} was not honoured at B within {GIVE_UP_AFTER} s")
    times.append((time.monotonic() - acknowledged) * 1000)

times.sort()


def percentile(p):
    return times[min(len(times) - 1, int(len(times) * p / 100))]


print(f"changes {len(times)}  p50 {percentile(50):.1f} ms  p99 {percentile(99):.1f} ms  slowest {times[-1]:.1f} ms")
