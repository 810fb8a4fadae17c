#!/usr/bin/env bash
# Cold start of the Lambda: the `bootstrap` binary and a bare lambda_http
# function answering a fixed body (src/bin/bare_lambda.rs), both built with
# the `lambda` profile, started alternately against a loopback Lambda
# Runtime API (src/bin/coldstart.rs) with one API Gateway event each,
# exec → first answer, STARTS times each (default 15). Prints each one's
# min, median and max, the ratio of the medians, and the binary's and its
# zip's sizes. Native build (x86_64 here); loopback only.
#
#   benches/coldstart.sh
#   STARTS=30 benches/coldstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
STARTS=${STARTS:-15}

cargo build --profile lambda -q -p ddns-lambda --bin bootstrap
cargo build --profile lambda -q -p ddns-benches --bin bare-lambda --bin coldstart
bin=target/lambda
"$bin/coldstart" --starts "$STARTS" "ddns=$bin/bootstrap" "bare=$bin/bare-lambda"

zip=$(mktemp -d)/bootstrap.zip
trap 'rm -rf "$(dirname "$zip")"' EXIT
python3 - "$bin/bootstrap" "$zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    z.write(sys.argv[1], "bootstrap")
PY
size() { stat -c %s "$1"; }
printf 'bootstrap (lambda profile, %s): %s bytes, zipped %s bytes\n' \
  "$(uname -m)" "$(size "$bin/bootstrap")" "$(size "$zip")"
printf 'bare-lambda (lambda profile): %s bytes\n' "$(size "$bin/bare-lambda")"
