"""A real S3-compatible server for the tests: moto's threaded server on 127.0.0.1:0.

Usage: moto_s3.py [--auth] BUCKET...   Creates the buckets, prints `PORT <n>`, serves until stdin closes.
--auth makes every request after the bucket creation need valid IAM credentials (unknown keys get 403).
"""

import os
import sys

args = sys.argv[1:]
auth = "--auth" in args
buckets = [a for a in args if a != "--auth"]
if auth:
    # Read by moto at import: the first N requests (the bucket creation) need no credentials.
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = str(len(buckets))

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
s3 = boto3.client(
    "s3",
    endpoint_url=f"http://{host}:{port}",
    region_name="us-east-1",
    aws_access_key_id="setup",
    aws_secret_access_key="setup",
)
for b in buckets:
    s3.create_bucket(Bucket=b)
print(f"PORT {port}", flush=True)
sys.stdin.read()
server.stop()
