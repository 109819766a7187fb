#!/usr/bin/env python3
"""Writes a CSV of distinct declined numbers for the import and footprint benchmarks.

Usage: declines_csv.py OUT.csv ROWS [COLUMNS]   (COLUMNS default "number,company,declined_at")

Numbers come from ten UK and US ranges, spread over each range; in the four UK ranges written
with a trunk zero, one number in three is written nationally ("020 7123 4567": 133,333 rows of a
million), the rest in E.164 (NATIONAL=0: every number in E.164, as a published list of
robocallers is). A third of the rows name one of 2,000 companies.
"""
import os
import sys

path, rows = sys.argv[1], int(sys.argv[2])
columns = (sys.argv[3] if len(sys.argv) > 3 else "number,company,declined_at").split(",")
# (E.164 prefix, digits after it, how the prefix is written nationally, or None to keep E.164)
ranges = [
    ("+44207", 7, "020 7"), ("+44161", 7, "0161 "), ("+44113", 7, "0113 "), ("+441632", 6, None),
    ("+447700", 6, "07700 "), ("+447911", 6, None), ("+1212", 7, None), ("+1415", 7, None),
    ("+1646", 7, None), ("+1800", 7, None),
]
nationally = os.environ.get("NATIONAL", "1") != "0"
assert -(-rows // len(ranges)) <= 8 * 10 ** 5, "at most eight million rows"
with open(path, "w") as out:
    out.write(",".join(columns) + "\n")
    for i in range(rows):
        prefix, digits, national = ranges[i % len(ranges)]
        # Spread each range's numbers over it rather than counting up (7919 is prime, so no two
        # rows of a range get the same number); a US exchange starts with 2 to 9.
        span = 10 ** digits - (2 * 10 ** (digits - 1) if prefix.startswith("+1") else 0)
        n = (i // len(ranges)) * 7919 % span + 10 ** digits - span
        rest = f"{n:0{digits}d}"
        number = f"{national}{rest[:3]} {rest[3:]}" if national and nationally and i % 3 == 0 else prefix + rest
        fields = {
            "number": number,
            "company": f"Company {i % 2000}" if i % 3 == 1 else "",
            "declined_at": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z",
        }
        out.write(",".join(fields[c] for c in columns) + "\n")
