#!/usr/bin/env bash
# Bounded soak of ddns-server with its default rate limits on: valid clients
# polling under their limits beside a stream of invalid requests (wrong
# hashes, unknown hosts, garbage, wrong dyndns2 passwords) from thousands of
# addresses, on loopback only. Reports valid-client errors and latency, how
# the invalid requests were refused, and the server's memory over time.
#
#   benches/soak.sh                       # 180 s, 200 clients every 4 s, 300 bad/s
#   SECONDS_TOTAL=600 CLIENTS=500 ATTACK=500 benches/soak.sh
#   ROTATE=6000 benches/soak.sh           # plus an attacker on a new /64 per request
#
# ROTATE adds an attacker sending that many requests a second, each from an
# IPv6 address in a /64 of its own (over a million in a 180 s run), naming a
# thousand random host names. Every answer is classified by protocol,
# status and body. Exits 1 when a valid request was not answered as
# planned (a change "has been set to" its address, a repeat "matches"),
# when DNS does not hold a client's last address at the end, when an
# invalid request succeeded or got an answer other than a refusal (a 5xx,
# a 431), or when the server's RSS grew by more than RSS_GROWTH_MIB
# (default 32) after warm-up. Every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

SECONDS_TOTAL=${SECONDS_TOTAL:-180}
CLIENTS=${CLIENTS:-200}
INTERVAL_MS=${INTERVAL_MS:-4000}
ATTACK=${ATTACK:-300}
ROTATE=${ROTATE:-0}
RSS_GROWTH_MIB=${RSS_GROWTH_MIB:-32}

cargo build --release -q -p ddns-server -p ddns-benches --bin ddns-server --bin soak
bin="$root/target/release"

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
http_port=$(free_port); dns_port=$(free_port)

# Default limits; loopback is the trusted proxy, so X-Forwarded-For tells
# the simulated clients apart.
cat > "$work/soak.toml" <<TOML
[http]
listen = ["127.0.0.1:$http_port"]
trusted_proxies = ["127.0.0.1/32"]
[dns]
listen = ["127.0.0.1:$dns_port"]
[store]
kind = "sqlite"
path = "$work/ddns.sqlite3"
TOML

"$bin/soak" prepare "$work/ddns.sqlite3" "$CLIENTS"
"$bin/ddns-server" --config "$work/soak.toml" --log warn &
pid=$!
ready=
for _ in $(seq 1 100); do
  if curl -sf -o /dev/null "http://127.0.0.1:$http_port/healthz"; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || { echo "the server did not answer /healthz within 10 s" >&2; exit 1; }

"$bin/soak" run "http://127.0.0.1:$http_port" "127.0.0.1:$dns_port" "$pid" "$SECONDS_TOTAL" "$CLIENTS" "$INTERVAL_MS" "$ATTACK" "$ROTATE" "$RSS_GROWTH_MIB"
