#!/usr/bin/env bash
# One dnsperf run (10 s, 4 clients) against the embedded DNS of a fresh
# ddns-server: a positive TXT answer, the zone's SOA and an NXDOMAIN, in
# turn. Prints the rate, what completed and was lost, the response codes
# and the average latency.
#
#   benches/dns.sh BINARY [LABEL]     (needs dnsperf and dig)
#
# Alternate two builds to compare them (the machine's rate drifts between
# runs):  for i in 1 2 3; do benches/dns.sh old/ddns-server old;
#         benches/dns.sh target/release/ddns-server new; done
set -euo pipefail
bin=$(realpath "$1"); label=${2:-run}
dir=$(mktemp -d); cd "$dir"
trap 'rm -rf "$dir"' EXIT
"$bin" add home.example.com >/dev/null
"$bin" txt set _acme-challenge.home.example.com LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0 >/dev/null 2>&1
"$bin" --http-listen 127.0.0.1:0 --dns-listen 127.0.0.1:18153 --log warn > server.log 2>&1 &
pid=$!
for i in $(seq 100); do dig @127.0.0.1 -p 18153 +time=1 +tries=1 example.com SOA >/dev/null 2>&1 && break; sleep 0.05; done
printf '_acme-challenge.home.example.com TXT\nexample.com SOA\nnope.example.com A\n' > queries
dnsperf -s 127.0.0.1 -p 18153 -d queries -l 10 -c 4 -Q 200000 -q 200 > perf.out 2>&1 || true
kill $pid; wait $pid 2>/dev/null || true
qps=$(grep -Eo 'Queries per second: *[0-9.]+' perf.out | grep -Eo '[0-9.]+$')
completed=$(grep -E 'Queries completed' perf.out | sed 's/^ *//')
lost=$(grep -E 'Queries lost' perf.out | sed 's/^ *//')
codes=$(grep -E 'Response codes' perf.out | sed 's/^ *//')
lat=$(grep -E 'Average Latency' perf.out | sed 's/^ *//')
echo "$label qps=$qps | $completed | $lost | $codes | $lat"
# Every answer must be the one planned: NOERROR (TXT, SOA) or NXDOMAIN.
if echo "$codes" | grep -Eq 'SERVFAIL|REFUSED|FORMERR|NOTIMP|NOTAUTH'; then
    echo "unexpected response codes: $codes" >&2
    exit 1
fi
