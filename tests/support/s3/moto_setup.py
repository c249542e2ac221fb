"""The S3 document store's tests (tests/api/documents_s3.rs) against a real S3-compatible server:
moto's server (PyPI `moto[server]`), started by the test with INITIAL_NO_AUTH_ACTION_COUNT=3, so
every request after this script's first three is checked against IAM with botocore's SigV4.

  moto_setup.py setup --endpoint URL --bucket NAME
      creates an IAM user allowed everything, its access key and the bucket; prints
      {"access_key_id": ..., "secret_access_key": ...}
  moto_setup.py list --endpoint URL --bucket NAME --key ID --secret SECRET
      prints the bucket's object keys as a JSON list
"""
import argparse
import json

import boto3

POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def client(service, endpoint, key="unused", secret="unused"):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["setup", "list"])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--bucket", required=True)
    ap.add_argument("--key")
    ap.add_argument("--secret")
    a = ap.parse_args()
    if a.command == "setup":
        # The three requests moto lets through without a signature.
        iam = client("iam", a.endpoint)
        iam.create_user(UserName="samverkan")
        iam.put_user_policy(UserName="samverkan", PolicyName="all", PolicyDocument=POLICY)
        k = iam.create_access_key(UserName="samverkan")["AccessKey"]
        # From here on signed and checked.
        s3 = client("s3", a.endpoint, k["AccessKeyId"], k["SecretAccessKey"])
        s3.create_bucket(Bucket=a.bucket)
        print(json.dumps({"access_key_id": k["AccessKeyId"], "secret_access_key": k["SecretAccessKey"]}))
    else:
        s3 = client("s3", a.endpoint, a.key, a.secret)
        r = s3.list_objects_v2(Bucket=a.bucket)
        print(json.dumps([o["Key"] for o in r.get("Contents", [])]))


if __name__ == "__main__":
    main()
