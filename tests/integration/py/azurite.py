"""A real Azure Blob emulator for the tests: Azurite's blob service on 127.0.0.1:0.

Usage: azurite.py AZURITE_BLOB_BIN CONTAINER...   Starts Azurite (in-memory), creates the
containers with Shared Key requests as the well-known emulator account, prints `PORT <n>`, and
serves until stdin closes.
"""

import base64
import hashlib
import hmac
import re
import subprocess
import sys
import tempfile
import threading
import urllib.request
from email.utils import formatdate

ACCOUNT = "devstoreaccount1"
# Azurite's documented, public development key (not a secret).
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def create_container(port, name):
    date = formatdate(usegmt=True)
    version = "2021-08-06"
    canon_headers = f"x-ms-date:{date}\nx-ms-version:{version}\n"
    canon_resource = f"/{ACCOUNT}/{ACCOUNT}/{name}\nrestype:container"
    to_sign = "PUT\n" + "\n" * 11 + canon_headers + canon_resource
    sig = base64.b64encode(
        hmac.new(base64.b64decode(KEY), to_sign.encode(), hashlib.sha256).digest()
    ).decode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/{ACCOUNT}/{name}?restype=container",
        method="PUT",
        headers={
            "x-ms-date": date,
            "x-ms-version": version,
            "Authorization": f"SharedKey {ACCOUNT}:{sig}",
            "Content-Length": "0",
        },
    )
    urllib.request.urlopen(req).read()


binary, containers = sys.argv[1], sys.argv[2:]
# In memory, and its debug/extent files in a throwaway folder.
with tempfile.TemporaryDirectory() as workdir:
    proc = subprocess.Popen(
        [
            binary,
            "--blobHost", "127.0.0.1",
            "--blobPort", "0",
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--disableProductStyleUrl",
            "--silent",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=workdir,
    )
    port = None
    for line in proc.stdout:
        m = re.search(r"listens on http://127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    if port is None:
        sys.exit("Azurite did not start")
    # Whatever it prints later is drained, so a full pipe never blocks it.
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    for c in containers:
        create_container(port, c)
    print(f"PORT {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        proc.terminate()
        proc.wait()
