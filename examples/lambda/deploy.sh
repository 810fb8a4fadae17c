#!/usr/bin/env bash
# One-step deployment of the Lambda stack: builds the function for arm64
# with cargo-lambda (the `lambda` profile), uploads the zip to S3, deploys
# template.yaml with CloudFormation, then prints the outputs and, with an
# API key, its value.
#
#   examples/lambda/deploy.sh --stack ddns --zone example.com --bucket MY-BUCKET \
#       [--zone-id Z123] [--api-key true|false] [--cname ddns.example.com \
#        --certificate arn:aws:acm:...] [--region eu-west-1] [--dry-run]
#
# Needs cargo-lambda (pip install cargo-lambda), the AWS CLI and credentials.
# --dry-run prints the commands instead of running them.
set -euo pipefail
cd "$(dirname "$0")/../.."

stack= zone= bucket= zone_id= api_key=true cname= certificate= region= dry=
while [ $# -gt 0 ]; do
  case "$1" in
    --stack) stack=$2; shift 2 ;;
    --zone) zone=$2; shift 2 ;;
    --bucket) bucket=$2; shift 2 ;;
    --zone-id) zone_id=$2; shift 2 ;;
    --api-key) api_key=$2; shift 2 ;;
    --cname) cname=$2; shift 2 ;;
    --certificate) certificate=$2; shift 2 ;;
    --region) region=$2; shift 2 ;;
    --dry-run) dry=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "deploy.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
missing=()
[ -n "$stack" ] || missing+=(--stack)
[ -n "$zone" ] || missing+=(--zone)
[ -n "$bucket" ] || missing+=(--bucket)
if [ ${#missing[@]} -gt 0 ]; then
  echo "deploy.sh: ${missing[*]} required (see --help)" >&2
  exit 2
fi
if [ -n "$cname" ] && [ -z "$certificate" ]; then
  echo "deploy.sh: --cname needs --certificate (an ACM certificate for it in the stack's region)" >&2
  exit 2
fi

run() {
  if [ -n "$dry" ]; then printf '%q ' "$@"; echo; else "$@"; fi
}
aws_args=()
[ -n "$region" ] && aws_args+=(--region "$region")

if [ -z "$dry" ]; then
  command -v cargo-lambda >/dev/null 2>&1 \
    || { echo "deploy.sh: cargo-lambda is needed: pip install cargo-lambda" >&2; exit 1; }
  command -v aws >/dev/null 2>&1 \
    || { echo "deploy.sh: the AWS CLI is needed: https://aws.amazon.com/cli/" >&2; exit 1; }
fi

key="ddns-lambda-$(git rev-parse --short HEAD 2>/dev/null || date +%s).zip"
run cargo lambda build --profile lambda --arm64 -p ddns-lambda --bin bootstrap --output-format zip
run aws "${aws_args[@]}" s3 cp target/lambda/bootstrap/bootstrap.zip "s3://$bucket/$key"
params=(route53ZoneName="$zone" codeS3Bucket="$bucket" codeS3Key="$key" useApiKey="$api_key")
[ -n "$zone_id" ] && params+=(route53ZoneId="$zone_id")
[ -n "$cname" ] && params+=(apiCname="$cname" acmCertificateARN="$certificate")
run aws "${aws_args[@]}" cloudformation deploy --stack-name "$stack" \
  --template-file examples/lambda/template.yaml --capabilities CAPABILITY_IAM \
  --no-fail-on-empty-changeset --parameter-overrides "${params[@]}"
run aws "${aws_args[@]}" cloudformation describe-stacks --stack-name "$stack" \
  --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text
if [ "$api_key" = true ]; then
  if [ -n "$dry" ]; then
    echo "# then the key's value: aws apigateway get-api-key --api-key <apiKey output> --include-value"
  else
    id=$(aws "${aws_args[@]}" cloudformation describe-stacks --stack-name "$stack" \
      --query "Stacks[0].Outputs[?OutputKey=='apiKey'].OutputValue" --output text)
    printf 'x-api-key: %s\n' "$(aws "${aws_args[@]}" apigateway get-api-key --api-key "$id" \
      --include-value --query value --output text)"
  fi
fi
