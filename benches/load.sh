#!/usr/bin/env bash
# HTTP load benchmark of ddns-server, side by side with a bare hyper
# hello-world server as the ceiling, on loopback only and bounded in time.
#
#   benches/load.sh                 # 10 s per run, 32 connections
#   DURATION=5s CONNS=64 benches/load.sh
#   SERVER_BIN=/path/to/other/ddns-server benches/load.sh   # compare another build
#
# Needs wrk (apt-get install wrk). Measures requests/second and p50/p99
# latency for mode=get and for mode=set with an unchanged address, with
# keep-alive and with one connection per request, and prints the ratio of
# each to the hello-world ceiling. Then changed sets: every request moves
# one of 64 records (round robin) to a new address, checking that each was
# answered "has been set to". After every run against ddns-server, its
# /metrics must show that each request was a success of the intended mode
# and changed DNS exactly as planned (benches/outcomes.py), so that no row
# can silently measure refusals. Every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}

command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is required: apt-get install curl" >&2; exit 1; }

cargo build --release -q -p ddns-server -p ddns-benches --bin ddns-server --bin hello
bin="$root/target/release"
server_bin=${SERVER_BIN:-$bin/ddns-server}

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
http_port=$(free_port); dns_port=$(free_port); hello_port=$(free_port)

# wrk sends everything from one address: the rate limits must be off.
printf '[limits]\nenabled = false\n' > "$work/bench.toml"
server() { (cd "$work" && "$server_bin" --config bench.toml --http-listen "127.0.0.1:$http_port" --dns-listen "127.0.0.1:$dns_port" --log warn "$@"); }

# The benchmark records: loopback clients are internal, so allow_internal.
server add bench.example.com --type a --allow-internal --secret bench-secret-0123456789abcdef >/dev/null
for i in $(seq 0 63); do
  server add "c$i.example.com" --type a --allow-internal --secret bench-secret-0123456789abcdef >/dev/null
done
(cd "$work" && exec "$server_bin" --config bench.toml --http-listen "127.0.0.1:$http_port" --dns-listen "127.0.0.1:$dns_port" --log warn) &
pids+=($!)
"$bin/hello" "127.0.0.1:$hello_port" &
pids+=($!)

for port in "$http_port" "$hello_port"; do
  ready=
  for _ in $(seq 1 100); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/?mode=get"; then ready=1; break; fi
    sleep 0.1
  done
  [ -n "$ready" ] || { echo "the server on port $port did not answer within 10 s" >&2; exit 1; }
done

hash=$(server token --hostname bench.example.com --ip 127.0.0.1)
set_path="/?mode=set&hostname=bench.example.com&hash=$hash"
curl -s "http://127.0.0.1:$http_port$set_path" >/dev/null   # the first set changes the record
answer=$(curl -s "http://127.0.0.1:$http_port$set_path")
case "$answer" in
  *"matches the current"*) ;;
  *) echo "the benchmark set is not 'unchanged': $answer" >&2; exit 1 ;;
esac

metrics() { curl -sf "http://127.0.0.1:$http_port/metrics" > "$1"; }
# Checks the run whose wrk output is $1 against the metrics before ($2):
# every request a success of seed mode $3, DNS changes "all" or "none" ($4).
outcomes() {
  local out=$1 before=$2 mode=$3 changes=$4 sent
  sent=$(awk '/requests in/ {print $1}' <<<"$out")
  metrics "$work/after"
  python3 "$root/benches/outcomes.py" "$before" "$work/after" "$mode" "$sent" "$CONNS" "$changes" >/dev/null \
    || { echo "$out" >&2; exit 1; }
}

declare -A rps
printf '%-28s %-11s %12s %10s %10s\n' "target" "connections" "requests/s" "p50" "p99"
run() {
  local name=$1 mode=$2 url=$3 seed_mode=${4:-} changes=${5:-none}
  local extra=()
  [ "$mode" = "per-request" ] && extra=(-H "Connection: close")
  local out
  [ -n "$seed_mode" ] && metrics "$work/before"
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${extra[@]}" "$url")
  if grep -q "Non-2xx" <<<"$out"; then echo "$name: non-2xx answers" >&2; echo "$out" >&2; exit 1; fi
  [ -n "$seed_mode" ] && outcomes "$out" "$work/before" "$seed_mode" "$changes"
  local r p50 p99
  r=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  rps["$name/$mode"]=$r
  printf '%-28s %-11s %12s %10s %10s\n' "$name" "$mode" "$r" "$p50" "$p99"
}

for mode in keep-alive per-request; do
  run "hello-world (ceiling)" "$mode" "http://127.0.0.1:$hello_port/?mode=get"
  run "mode=get" "$mode" "http://127.0.0.1:$http_port/?mode=get" get none
  run "mode=set, unchanged" "$mode" "http://127.0.0.1:$http_port$set_path" set none
done

# Changed sets over 64 records: a wrk script that moves record n mod 64 to
# a new address with request n and counts answers that are not a change.
{
  echo "local hashes = {"
  for i in $(seq 0 63); do
    echo "  [$i] = \"$(server token --hostname "c$i.example.com" --ip 127.0.0.1)\","
  done
  cat <<'LUA'
}
local n = 0
bad = 0
request = function()
  n = n + 1
  local i = n % 64
  local ip = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  return wrk.format("GET", "/?mode=set&hostname=c" .. i .. ".example.com&hash=" .. hashes[i] .. "&internalIp=" .. ip)
end
response = function(status, headers, body)
  if not string.find(body, "has been set to", 1, true) then bad = bad + 1 end
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("not-a-change %d\n", total))
end
LUA
} > "$work/changed.lua"
metrics "$work/before"
out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$work/changed.lua" "http://127.0.0.1:$http_port")
outcomes "$out" "$work/before" set all
bad=$(awk '/^not-a-change/ {print $2}' <<<"$out")
changed_rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
printf '%-28s %-11s %12s %10s %10s\n' "mode=set, changed (64 rec.)" "keep-alive" "$changed_rps" \
  "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")"
if [ "${bad:-1}" != "0" ]; then echo "changed sets: $bad answers were not a change" >&2; echo "$out" >&2; exit 1; fi

echo
for mode in keep-alive per-request; do
  ceiling=${rps["hello-world (ceiling)/$mode"]}
  for name in "mode=get" "mode=set, unchanged"; do
    python3 -c "import sys; print(f'{sys.argv[1]:<22} {sys.argv[2]:<11} {float(sys.argv[3])/float(sys.argv[4]):.2f} of the ceiling')" \
      "$name" "$mode" "${rps["$name/$mode"]}" "$ceiling"
  done
done
python3 -c "import sys; print(f'{sys.argv[1]:<22} {sys.argv[2]:<11} {float(sys.argv[3])/float(sys.argv[4]):.2f} of the ceiling')" \
  "mode=set, changed" "keep-alive" "$changed_rps" "${rps["hello-world (ceiling)/keep-alive"]}"
