#!/usr/bin/env bash
# The embedded DNS against Knot serving the same zone, in one run:
# N A records (ddns-server: in its SQLite store, on its defaults; Knot:
# from a zone file), each server pinned to core 0, dnsperf pinned to
# core 1. Reports, for each: the time from start to the first correct
# answer for the last record, resident memory then (VmRSS) and at its peak
# (VmHWM), and the queries per second of 90 % existing names and 10 %
# NXDOMAIN (with the DO bit when signed). Every answer must be NOERROR or
# NXDOMAIN (the script fails otherwise).
#
#   benches/zone.sh N [signed] [SECONDS]     (default 10 s of dnsperf)
#
# Needs a release build (cargo build --release -p ddns-server -p
# ddns-benches), knotd (knot), dnsperf, dig (bind9-dnsutils), taskset.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
count=${1:?usage: zone.sh N [signed] [SECONDS]}
signed=${2:-unsigned}
seconds=${3:-10}
bin="$root/target/release/ddns-server"
fill="$root/target/release/zonefill"
for tool in "$bin" "$fill"; do
    [ -x "$tool" ] || { echo "build first: cargo build --release -p ddns-server -p ddns-benches" >&2; exit 2; }
done
for tool in knotd dnsperf dig taskset; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "missing $tool" >&2; exit 2; }
done
knotd=$(command -v knotd || echo /usr/sbin/knotd)
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
cd "$dir"
"$fill" ddns.sqlite3 example.com.zone queries "$count" >/dev/null
last="host-$((count - 1)).example.com"
last_ip=$(awk -v h="host-$((count - 1))" '$1 == h { print $3 }' example.com.zone)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Seconds from $2 (date +%s.%N) until the server at port $1 answers the
# last record with its address (a dig each round, every 10 ms at most).
until_answers() {
    local port=$1 begun=$2
    for _ in $(seq 60000); do
        if [ "$(dig @127.0.0.1 -p "$port" +time=1 +tries=1 +short "$last" A 2>/dev/null)" = "$last_ip" ]; then
            echo "$(date +%s.%N) - $begun" | bc
            return 0
        fi
        sleep 0.01
    done
    echo "no answer for $last within 10 minutes" >&2
    return 1
}

memory() { awk '/^VmRSS|^VmHWM/ { printf "%s %.0f MB  ", $1, $2 / 1024 }' "/proc/$1/status"; }

perf() {
    local label=$1 port=$2
    local flags=()
    [ "$signed" = signed ] && flags+=(-D)
    taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d queries -l "$seconds" -c 4 -q 200 \
        "${flags[@]}" > "perf-$label.out" 2>&1 || true
    local qps codes
    qps=$(grep -Eo 'Queries per second: *[0-9.]+' "perf-$label.out" | grep -Eo '[0-9.]+$')
    codes=$(grep -E 'Response codes' "perf-$label.out" | sed 's/^ *//')
    if echo "$codes" | grep -Eq 'SERVFAIL|REFUSED|FORMERR|NOTIMP|NOTAUTH'; then
        echo "$label: unexpected response codes: $codes" >&2
        exit 1
    fi
    echo "$qps|$codes|$(grep -E 'Queries lost' "perf-$label.out" | sed 's/^ *//')"
}

# ddns-server on its defaults (SQLite store, embedded DNS).
ddns_port=$(free_port)
dnssec_line=""
[ "$signed" = signed ] && dnssec_line="dnssec = true"
cat > ddns.toml <<EOF
[http]
listen = ["127.0.0.1:0"]
[dns]
listen = ["127.0.0.1:$ddns_port"]
[zone]
name = "example.com"
nameservers = ["ns1.example.net"]
$dnssec_line
[store]
kind = "sqlite"
path = "ddns.sqlite3"
EOF
begun=$(date +%s.%N)
taskset -c 0 "$bin" --config ddns.toml --log warn > ddns.log 2>&1 &
ddns_pid=$!; pids+=("$ddns_pid")
ddns_start=$(until_answers "$ddns_port" "$begun")
ddns_mem=$(memory "$ddns_pid")

# Knot from the zone file (signing it itself when signed).
knot_port=$(free_port)
mkdir -p knot/db
cp example.com.zone knot/
signing=""
[ "$signed" = signed ] && signing=$'    dnssec-signing: on\n    dnssec-policy: bench'
cat > knot.conf <<EOF
server:
    rundir: "$dir/knot"
    listen: 127.0.0.1@$knot_port
database:
    storage: "$dir/knot/db"
    journal-db-max-size: 64G
policy:
  - id: bench
    algorithm: ecdsap256sha256
    single-type-signing: on
    nsec3: off
template:
  - id: default
    storage: "$dir/knot"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
    journal-max-usage: 32G
zone:
  - domain: example.com
$signing
log:
  - target: stderr
    any: warning
EOF
begun=$(date +%s.%N)
taskset -c 0 "$knotd" -c knot.conf > knot.log 2>&1 &
knot_pid=$!; pids+=("$knot_pid")
knot_start=$(until_answers "$knot_port" "$begun")
knot_mem=$(memory "$knot_pid")

# Alternate the two so drift of the machine hits both alike.
IFS='|' read -r ddns_qps ddns_codes ddns_lost <<<"$(perf ddns "$ddns_port")"
IFS='|' read -r knot_qps knot_codes knot_lost <<<"$(perf knot "$knot_port")"
IFS='|' read -r ddns_qps2 _ _ <<<"$(perf ddns2 "$ddns_port")"
IFS='|' read -r knot_qps2 _ _ <<<"$(perf knot2 "$knot_port")"

printf '%s records, %s\n' "$count" "$signed"
printf 'ddns-server: first answer after %.2f s; %s\n' "$ddns_start" "$ddns_mem"
printf 'knotd:       first answer after %.2f s; %s\n' "$knot_start" "$knot_mem"
printf 'ddns-server: %s and %s queries/s | %s | %s\n' "$ddns_qps" "$ddns_qps2" "$ddns_codes" "$ddns_lost"
printf 'knotd:       %s and %s queries/s | %s | %s\n' "$knot_qps" "$knot_qps2" "$knot_codes" "$knot_lost"
ratio=$(echo "scale=2; ($ddns_qps + $ddns_qps2) / ($knot_qps + $knot_qps2)" | bc)
printf 'ddns-server / knotd: %s\n' "$ratio"
