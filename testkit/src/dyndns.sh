#!/usr/bin/env bash
# The upstream project's client as docs/PROTOCOL.md ("The upstream
# protocol") describes it, for the tests: `-m get|set -u <url> -h <host>
# -s <secret>`. `get` posts {"execution_mode":"get"}; `set` first gets the
# address, keeps what matches [0-9.]+, hashes ip + host + secret with
# SHA-256 and posts the set. Prints the body, then ,{"status_code":"<code>"}.
#
# One addition for loopback tests: DDNS_FORWARDED_FOR, when set, is sent
# as X-Forwarded-For (the server under test trusts loopback as its proxy),
# so the request comes from a public address as in the field.
set -euo pipefail
mode= url= host= secret=
while getopts "m:u:h:s:" opt; do
  case "$opt" in
    m) mode=$OPTARG ;;
    u) url=$OPTARG ;;
    h) host=$OPTARG ;;
    s) secret=$OPTARG ;;
    *) echo "usage: $0 -m get|set -u URL -h HOST -s SECRET" >&2; exit 2 ;;
  esac
done
headers=(-H "Content-Type: application/json")
[ -n "${DDNS_FORWARDED_FOR:-}" ] && headers+=(-H "X-Forwarded-For: $DDNS_FORWARDED_FOR")
post() {
  curl --ipv4 -sS -o /dev/stdout -w '\n%{http_code}' "${headers[@]}" -X POST -d "$1" "$url"
}
answer() {
  local out body code
  out=$(post "$1")
  code=${out##*$'\n'}
  body=${out%$'\n'*}
  printf '%s,{"status_code":"%s"}\n' "$body" "$code"
}
case "$mode" in
  get) answer '{"execution_mode":"get"}' ;;
  set)
    got=$(post '{"execution_mode":"get"}')
    ip=$(printf '%s' "${got%$'\n'*}" | grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' | head -1)
    hash=$(printf '%s%s%s' "$ip" "$host" "$secret" | shasum -a 256 | cut -d' ' -f1)
    answer "{\"execution_mode\":\"set\",\"ddns_hostname\":\"$host\",\"validation_hash\":\"$hash\"}"
    ;;
  *) echo "mode must be get or set" >&2; exit 2 ;;
esac
