#!/usr/bin/env bash
# How soon a change reaches the secondaries under a steady load: a
# ddns-server on its defaults with N records (zonefill), BIND and Knot as
# its secondaries (TSIG transfer key, NOTIFY), and `propagation` sending
# PER_SECOND dyndns2 updates for SECONDS, each timed until both
# secondaries answer the new address.
#
#   benches/propagation.sh [N] [PER_SECOND] [SECONDS] [signed]
#       (default 10000 records, 100/s, 30 s, unsigned)
#
# Needs a release build (cargo build --release -p ddns-server -p
# ddns-benches), named (bind9), knotd (knot), dig.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-10000}; rate=${2:-100}; seconds=${3:-30}; signed=${4:-unsigned}
bin="$root/target/release/ddns-server"
fill="$root/target/release/zonefill"
load="$root/target/release/propagation"
for tool in "$bin" "$fill" "$load"; do
    [ -x "$tool" ] || { echo "build first: cargo build --release -p ddns-server -p ddns-benches" >&2; exit 2; }
done
if [ $((rate * seconds)) -gt "$count" ]; then
    echo "PER_SECOND * SECONDS must not exceed N: each change goes to another record" >&2
    exit 2
fi
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
cd "$dir"
"$fill" ddns.sqlite3 zone queries "$count" >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
primary=$(free_port); http=$(free_port); bind_port=$(free_port); knot_port=$(free_port)
secret=$(head -c 32 /dev/urandom | base64)
dnssec_line=""
[ "$signed" = signed ] && dnssec_line="dnssec = true"
cat > ddns.toml <<EOF
[http]
listen = ["127.0.0.1:$http"]
[dns]
listen = ["127.0.0.1:$primary"]
[zone]
name = "example.com"
nameservers = ["ns1.example.net"]
$dnssec_line
[[zone.secondaries]]
address = "127.0.0.1:$bind_port"
key_name = "xfr"
key_secret = "$secret"
[[zone.secondaries]]
address = "127.0.0.1:$knot_port"
key_name = "xfr"
key_secret = "$secret"
[limits]
enabled = false
[store]
kind = "sqlite"
path = "ddns.sqlite3"
EOF
"$bin" --config ddns.toml --log warn > ddns.log 2>&1 &
pids+=($!)
until dig @127.0.0.1 -p "$primary" +time=1 +tries=1 +short example.com SOA 2>/dev/null | grep -q hostmaster; do sleep 0.05; done

mkdir -p bind knot/db
cat > bind/named.conf <<EOF
options { directory "$dir/bind"; listen-on port $bind_port { 127.0.0.1; }; listen-on-v6 { none; };
  pid-file "$dir/bind/named.pid"; session-keyfile "$dir/bind/session.key"; recursion no;
  dnssec-validation no; notify no; };
controls { };
key "xfr" { algorithm hmac-sha256; secret "$secret"; };
zone "example.com" { type secondary; file "$dir/bind/secondary.zone";
  primaries { 127.0.0.1 port $primary key "xfr"; }; };
EOF
/usr/sbin/named -g -n 1 -c bind/named.conf > bind/log 2>&1 &
pids+=($!)
cat > knot/knot.conf <<EOF
server:
    rundir: "$dir/knot"
    listen: 127.0.0.1@$knot_port
key:
  - id: xfr
    algorithm: hmac-sha256
    secret: $secret
remote:
  - id: primary
    address: 127.0.0.1@$primary
    key: xfr
acl:
  - id: notify
    address: 127.0.0.1
    key: xfr
    action: notify
database:
    storage: "$dir/knot/db"
template:
  - id: default
    storage: "$dir/knot"
    file: "%s.zone"
zone:
  - domain: example.com
    master: primary
    acl: [notify]
log:
  - target: stderr
    any: info
EOF
/usr/sbin/knotd -c knot/knot.conf > knot/log 2>&1 &
pids+=($!)
serial=$(dig @127.0.0.1 -p "$primary" +short example.com SOA | awk '{ print $3 }')
for port in "$bind_port" "$knot_port"; do
    for _ in $(seq 600); do
        [ "$(dig @127.0.0.1 -p "$port" +time=1 +tries=1 +short example.com SOA 2>/dev/null | awk '{ print $3 }')" = "$serial" ] && break
        sleep 0.1
    done
done
bind_before=$(grep -c "Transfer completed" bind/log || true)
knot_before=$(grep -c "incoming.*finished" knot/log || true)
echo "$count records ($signed), $rate changes/s for $seconds s; BIND at 127.0.0.1:$bind_port, Knot at 127.0.0.1:$knot_port"
"$load" "127.0.0.1:$http" "127.0.0.1:$bind_port,127.0.0.1:$knot_port" "$rate" "$seconds" "$count"
bind_after=$(grep -c "Transfer completed" bind/log || true)
knot_after=$(grep -c "incoming.*finished" knot/log || true)
echo "transfers during the run: BIND $((bind_after - bind_before)), Knot $((knot_after - knot_before))"
