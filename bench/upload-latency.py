#!/usr/bin/env python3
"""Upload wheels one at a time over one keep-alive connection and time each.

The form is the one twine sends (legacy upload API, protocol_version 1, with
md5, sha256 and blake2b-256 digests). Each request body is built before its
clock starts, so the figure is the server's time plus loopback: from the first
byte sent to the last byte of the response read. Any answer other than 200 is
an error (exit status 1).

Usage:
  upload-latency.py URL USER PASSWORD WHEEL... [--out FILE]
Prints one JSON object: {"ms": [...], "median": ..., "p90": ..., "p99": ...};
--out also writes "filename<TAB>ms" lines.
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import sys
import time
import urllib.parse
import uuid


def form(path: str) -> tuple[bytes, str]:
    data = open(path, "rb").read()
    filename = os.path.basename(path)
    name, version = filename.split("-")[:2]
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "metadata_version": "2.1",
        "name": name,
        "version": version,
        "filetype": "bdist_wheel",
        "pyversion": "py3",
        "md5_digest": hashlib.md5(data).hexdigest(),
        "sha256_digest": hashlib.sha256(data).hexdigest(),
        "blake2_256_digest": hashlib.blake2b(data, digest_size=32).hexdigest(),
    }
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="content"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def percentile(sorted_ms: list[float], q: float) -> float:
    # Nearest rank: the smallest value with at least q of the samples at or below it.
    rank = max(1, -(-len(sorted_ms) * q // 1))
    return sorted_ms[int(rank) - 1]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("user")
    p.add_argument("password")
    p.add_argument("wheels", nargs="+")
    p.add_argument("--out")
    a = p.parse_args()
    url = urllib.parse.urlsplit(a.url)
    auth = "Basic " + base64.b64encode(f"{a.user}:{a.password}".encode()).decode()
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    timings = []
    for path in a.wheels:
        body, content_type = form(path)
        headers = {"Authorization": auth, "Content-Type": content_type}
        t0 = time.perf_counter()
        conn.request("POST", url.path or "/", body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        ms = (time.perf_counter() - t0) * 1000
        if response.status != 200:
            sys.stderr.write(f"{os.path.basename(path)}: HTTP {response.status}: {answer[:300]!r}\n")
            return 1
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        timings.append((os.path.basename(path), ms))
    conn.close()
    if a.out:
        with open(a.out, "w") as f:
            for name, ms in timings:
                f.write(f"{name}\t{ms:.3f}\n")
    ms = sorted(t for _, t in timings)
    print(
        json.dumps(
            {
                "ms": [round(t, 3) for _, t in timings],
                "median": round(percentile(ms, 0.5), 2),
                "p90": round(percentile(ms, 0.9), 2),
                "p99": round(percentile(ms, 0.99), 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
