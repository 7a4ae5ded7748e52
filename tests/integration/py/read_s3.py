"""Reads every dataset root of an S3 output by its path alone with pyarrow's S3 filesystem.

Usage: read_s3.py ENDPOINT BUCKET/PREFIX   (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
Prints one JSON object: {"parquet/conversations": rows, ..., "dates": {...}}.
"""

import json
import os
import sys

import pyarrow.dataset as ds
import pyarrow.fs as pafs

endpoint, base = sys.argv[1], sys.argv[2].rstrip("/")
fs = pafs.S3FileSystem(
    endpoint_override=endpoint,
    scheme="http",
    region="us-east-1",
    access_key=os.environ["AWS_ACCESS_KEY_ID"],
    secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
)
out = {"dates": {}}
for fmt in ("parquet", "csv"):
    for table in ("conversations", "legs"):
        root = f"{base}/{fmt}/{table}"
        t = ds.dataset(root, filesystem=fs, format=fmt, partitioning="hive").to_table()
        out[f"{fmt}/{table}"] = t.num_rows
        out["dates"][f"{fmt}/{table}"] = sorted({str(d) for d in t.column("date").to_pylist()})
print(json.dumps(out))
