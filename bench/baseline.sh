#!/usr/bin/env bash
# The manual procedure as an admin (or a script) runs it: the same reads `aoc-preflight check`
# makes in live mode, with the `aws` CLI, one command after another.
#
#   bench/baseline.sh --endpoint-url URL --region R --bucket B --kms-key KEY_ARN --role-arn ROLE_ARN [--out DIR]
#
# Reads (all of them, the same information the tool judges, not less):
#   sts get-caller-identity
#   s3api head-bucket, get-bucket-location, get-bucket-encryption, get-bucket-policy,
#         get-public-access-block
#   kms describe-key, list-aliases, get-key-policy
#   iam get-role, list-role-policies, get-role-policy (each), list-attached-role-policies,
#       get-policy + get-policy-version (each attached policy, and the permissions boundary
#       when the role has one)
# Each command is one AWS request (no pagination at these sizes). Answers go to DIR (default:
# a temporary directory, removed), one JSON file per command; the last line on stdout is
# `commands: N`.
#
# The `aws` CLI is $AWS_CLI, or .venv/bin/aws (bench/run.sh installs it there). The caller
# provides credentials and the environment (bench/bench.py runs it with dummy credentials
# and empty AWS config files, against moto on 127.0.0.1 behind the latency proxy).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
aws_cli="${AWS_CLI:-$repo/.venv/bin/aws}"
endpoint="" region="" bucket="" kms_key="" role_arn="" out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --endpoint-url) endpoint="$2"; shift 2 ;;
        --region) region="$2"; shift 2 ;;
        --bucket) bucket="$2"; shift 2 ;;
        --kms-key) kms_key="$2"; shift 2 ;;
        --role-arn) role_arn="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "baseline.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
for v in endpoint region bucket kms_key role_arn; do
    if [ -z "${!v}" ]; then echo "baseline.sh: --${v//_/-} is required" >&2; exit 2; fi
done
if [ -z "$out" ]; then
    out="$(mktemp -d)"
    trap 'rm -rf "$out"' EXIT
fi
role_name="${role_arn##*/}"

# The commands are numbered in a file: `value` runs in a command substitution's subshell.
echo 0 > "$out/.count"
next() {
    local n
    n=$(($(cat "$out/.count") + 1))
    echo "$n" > "$out/.count"
    printf %02d "$n"
}
# aws ARGS... > $out/NN-NAME.json; the name is the operation.
run() {
    local name="$1" i; shift
    i="$(next)"
    "$aws_cli" --endpoint-url "$endpoint" --region "$region" --output json "$@" \
        > "$out/$i-$name.json"
}
# The same, printing one value selected with --query (text output).
value() {
    local name="$1" i; shift
    i="$(next)"
    "$aws_cli" --endpoint-url "$endpoint" --region "$region" "$@" \
        | tee "$out/$i-$name.txt"
}

run get-caller-identity sts get-caller-identity

run head-bucket s3api head-bucket --bucket "$bucket"
run get-bucket-location s3api get-bucket-location --bucket "$bucket"
run get-bucket-encryption s3api get-bucket-encryption --bucket "$bucket"
run get-bucket-policy s3api get-bucket-policy --bucket "$bucket"
run get-public-access-block s3api get-public-access-block --bucket "$bucket"

run describe-key kms describe-key --key-id "$kms_key"
run list-aliases kms list-aliases --key-id "${kms_key##*/}"
run get-key-policy kms get-key-policy --key-id "$kms_key" --policy-name default

boundary="$(value get-role iam get-role --role-name "$role_name" \
    --query 'Role.PermissionsBoundary.PermissionsBoundaryArn' --output text | tail -n 1)"
managed_policy() {
    local arn="$1" version
    version="$(value get-policy iam get-policy --policy-arn "$arn" \
        --query 'Policy.DefaultVersionId' --output text)"
    run get-policy-version iam get-policy-version --policy-arn "$arn" --version-id "$version"
}
for name in $(value list-role-policies iam list-role-policies --role-name "$role_name" \
    --query 'PolicyNames[]' --output text); do
    run get-role-policy iam get-role-policy --role-name "$role_name" --policy-name "$name"
done
for arn in $(value list-attached-role-policies iam list-attached-role-policies \
    --role-name "$role_name" --query 'AttachedPolicies[].PolicyArn' --output text); do
    managed_policy "$arn"
done
if [ -n "$boundary" ] && [ "$boundary" != "None" ]; then
    managed_policy "$boundary"
fi

echo "commands: $(cat "$out/.count")"
