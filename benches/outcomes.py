#!/usr/bin/env python3
"""Checks what one load run did, from ddns-server's /metrics before and after.

    outcomes.py BEFORE AFTER MODE SENT CONNECTIONS CHANGES

BEFORE and AFTER are /metrics texts. Every request of the run must have
been answered `success` in MODE (the seed API's mode label): the success
count grew by at least SENT (what wrk counted) and by at most SENT plus
CONNECTIONS (requests still in flight when wrk stopped), and no other
outcome of any mode grew. CHANGES is `all` (every success changed DNS) or
`none` (none did). Exits 1, saying what differed, otherwise.
"""

import re
import sys

LINE = re.compile(r'^(ddns_requests_total|ddns_dns_changes_total)(\{([^}]*)\})?\s+(\S+)$')


def read(path):
    counts = {}
    with open(path, encoding="utf-8") as text:
        for line in text:
            match = LINE.match(line.strip())
            if match:
                name, _, labels, value = match.groups()
                counts[(name, labels or "")] = float(value)
    return counts


def main():
    before_path, after_path, mode, sent, connections, changes = sys.argv[1:7]
    before, after = read(before_path), read(after_path)
    sent, connections = int(sent), int(connections)
    grew = {key: after.get(key, 0) - before.get(key, 0) for key in set(before) | set(after)}
    success = ("ddns_requests_total", f'mode="{mode}",outcome="success"')
    problems = []
    answered = grew.get(success, 0)
    if not sent <= answered <= sent + connections:
        problems.append(f"{answered:.0f} {mode} successes for {sent} requests sent")
    for key, delta in sorted(grew.items()):
        if key[0] == "ddns_requests_total" and key != success and delta:
            problems.append(f"{delta:.0f} answers {key[1]}")
    changed = grew.get(("ddns_dns_changes_total", ""), 0)
    if changes == "all" and changed != answered:
        problems.append(f"{changed:.0f} DNS changes for {answered:.0f} changed sets")
    if changes == "none" and changed:
        problems.append(f"{changed:.0f} DNS changes in a run of unchanged requests")
    if problems:
        print(f"outcomes of the {mode} run: " + "; ".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"outcomes: {answered:.0f} {mode} successes, {changed:.0f} DNS changes, nothing else")


if __name__ == "__main__":
    main()
