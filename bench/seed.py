#!/usr/bin/env python3
"""Seeds correct worlds in moto with boto3, as tests/cli/support/world.rs builds its correct
one (IBM's procedure, "Attach a KMS-encrypted AWS bucket"), and prints them as JSON.

    seed.py --endpoint http://127.0.0.1:PORT --worlds 10 --dir WORKDIR > worlds.json

Each world, in us-east-1, account 123456789012 (moto's default):
- a symmetric KMS key (ENCRYPT_DECRYPT, SYMMETRIC_DEFAULT) whose key policy delegates to IAM
  through the account root, and an alias for it;
- a bucket with default encryption SSE-KMS under that key (bucket key on), Block Public
  Access all on, and a bucket policy with the usual DenyInsecureTransport statement;
- a role under /aoc/ trusting AoC's principal with AoC's external ID, with an inline policy
  (aoc-s3-access: the five object and three bucket actions) and an attached managed policy
  (BASE-kms, under /aoc/: the sample's seven KMS actions on the key ARN);
- the trust policy AoC shows, written to WORKDIR/BASE-aoc-trust-policy.json.

Keep this equivalent to `World::builder(..).build()` in tests/cli/support/world.rs.
"""

import argparse
import json
import os
import sys

import boto3

ACCOUNT = "123456789012"
AOC_ACCOUNT = "860559707280"
OBJECT_ACTIONS = [
    "s3:PutObject",
    "s3:GetObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
]
BUCKET_ACTIONS = ["s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:GetBucketLocation"]
KMS_ACTIONS = [
    "kms:GenerateDataKey",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:EnableKey",
]


def aoc_principal(region):
    return f"arn:aws:iam::{AOC_ACCOUNT}:role/atp-aws-{region}-ts-atc-node"


def trust_policy(region, external_id):
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": aoc_principal(region)},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def root_delegation_key_policy():
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "key-default-1",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    )


def external_id(n):
    return "%08x-%04x-4%03x-8%03x-%012x" % (
        0x3B6F5A1C ^ n,
        n & 0xFFFF,
        n & 0xFFF,
        (n >> 12) & 0xFFF,
        0x0E1D2C3B4A59 + n,
    )


def seed(endpoint, n, tag, region, workdir):
    kw = dict(
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    kms = boto3.client("kms", **kw)
    s3 = boto3.client("s3", **kw)
    iam = boto3.client("iam", **dict(kw, region_name="us-east-1"))

    base = f"aoc-{n:03d}-{tag}"
    role_name = f"{base}-role"
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/aoc/{role_name}"
    alias_name = f"alias/{base}"
    alias_arn = f"arn:aws:kms:{region}:{ACCOUNT}:{alias_name}"

    key = kms.create_key(
        Description=f"aoc-preflight bench {base}",
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
        Policy=root_delegation_key_policy(),
        BypassPolicyLockoutSafetyCheck=False,
    )["KeyMetadata"]
    key_arn = key["Arn"]
    kms.create_alias(AliasName=alias_name, TargetKeyId=key["KeyId"])

    bucket = base
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
        )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key_arn,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        ),
    )

    ext_id = external_id(n)
    iam.create_role(
        RoleName=role_name,
        Path="/aoc/",
        AssumeRolePolicyDocument=json.dumps(trust_policy(region, ext_id)),
        Description="aoc-preflight bench role",
    )
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName="aoc-s3-access",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AocObjects",
                        "Effect": "Allow",
                        "Action": OBJECT_ACTIONS,
                        "Resource": [f"arn:aws:s3:::{bucket}/*"],
                    },
                    {
                        "Sid": "AocBucket",
                        "Effect": "Allow",
                        "Action": BUCKET_ACTIONS,
                        "Resource": [f"arn:aws:s3:::{bucket}"],
                    },
                ],
            }
        ),
    )
    policy_arn = iam.create_policy(
        PolicyName=f"{base}-kms",
        Path="/aoc/",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AocKms",
                        "Effect": "Allow",
                        "Action": KMS_ACTIONS,
                        "Resource": [key_arn],
                    }
                ],
            }
        ),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role_name, PolicyArn=policy_arn)

    trust_file = os.path.join(workdir, f"{base}-aoc-trust-policy.json")
    with open(trust_file, "w") as f:
        json.dump(trust_policy(region, ext_id), f, indent=2)

    return {
        "region": region,
        "bucket": bucket,
        "kms_key": key_arn,
        "key_arn": key_arn,
        "alias_arn": alias_arn,
        "role_name": role_name,
        "role_arn": role_arn,
        "external_id": ext_id,
        "trust_policy": trust_file,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--worlds", type=int, default=1)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--tag", default="bench")
    p.add_argument("--dir", required=True)
    args = p.parse_args()
    host = args.endpoint.split("//", 1)[-1].split(":")[0]
    if host not in ("127.0.0.1", "localhost"):
        sys.exit("seed.py: refusing to seed anything but a loopback endpoint")
    worlds = [seed(args.endpoint, n, args.tag, args.region, args.dir) for n in range(args.worlds)]
    json.dump(worlds, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
