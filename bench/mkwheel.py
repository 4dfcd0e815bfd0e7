#!/usr/bin/env python3
"""Write valid, strict wheels for the benchmarks (standard library only).

Each wheel holds {module}/__init__.py, optionally {module}/payload.bin filled
with incompressible bytes (os.urandom), and the dist-info METADATA, WHEEL and
RECORD files, with RECORD listing every member's sha256 and size. Large
payloads are streamed to disk in 1 MiB chunks, never held in memory.

Usage:
  mkwheel.py OUTDIR NAME VERSION [VERSION...] [--payload-bytes N]
  mkwheel.py OUTDIR NAME --series PREFIX COUNT      # PREFIX.0 .. PREFIX.COUNT-1
Prints the path of each wheel written, one a line.
"""

import argparse
import base64
import hashlib
import os
import sys
import zipfile

CHUNK = 1024 * 1024


def record_hash(data_hash: "hashlib._Hash") -> str:
    return "sha256=" + base64.urlsafe_b64encode(data_hash.digest()).rstrip(b"=").decode()


def write_member(zf: zipfile.ZipFile, arcname: str, data: bytes, compress: int):
    info = zipfile.ZipInfo(arcname, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)
    h = hashlib.sha256(data)
    return f"{arcname},{record_hash(h)},{len(data)}"


def write_random_member(zf: zipfile.ZipFile, arcname: str, size: int):
    """Stream `size` random bytes into a STORED member; returns its RECORD line."""
    info = zipfile.ZipInfo(arcname, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    h = hashlib.sha256()
    left = size
    with zf.open(info, "w", force_zip64=size >= 0x7FFFFFFF) as out:
        while left:
            chunk = os.urandom(min(CHUNK, left))
            h.update(chunk)
            out.write(chunk)
            left -= len(chunk)
    return f"{arcname},{record_hash(h)},{size}"


def make_wheel(outdir: str, name: str, version: str, payload_bytes: int) -> str:
    dist = name.replace("-", "_")
    module = dist.lower()
    filename = f"{dist}-{version}-py3-none-any.whl"
    path = os.path.join(outdir, filename)
    dist_info = f"{dist}-{version}.dist-info"
    tmp = path + ".tmp"
    deflate = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(tmp, "w") as zf:
        records = [
            write_member(
                zf,
                f"{module}/__init__.py",
                f'"""Benchmark package {name} {version}."""\n__version__ = "{version}"\n'.encode(),
                deflate,
            )
        ]
        if payload_bytes:
            records.append(write_random_member(zf, f"{module}/payload.bin", payload_bytes))
        metadata = (
            "Metadata-Version: 2.1\n"
            f"Name: {name}\n"
            f"Version: {version}\n"
            "Summary: Synthetic package for Wharf benchmarks\n"
            "Requires-Python: >=3.8\n"
        ).encode()
        wheel = (
            "Wheel-Version: 1.0\n"
            "Generator: wharf-bench\n"
            "Root-Is-Purelib: true\n"
            "Tag: py3-none-any\n"
        ).encode()
        records.append(write_member(zf, f"{dist_info}/METADATA", metadata, deflate))
        records.append(write_member(zf, f"{dist_info}/WHEEL", wheel, deflate))
        records.append(f"{dist_info}/RECORD,,")
        info = zipfile.ZipInfo(f"{dist_info}/RECORD", date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = deflate
        info.external_attr = 0o644 << 16
        zf.writestr(info, "\n".join(records) + "\n")
    os.replace(tmp, path)
    return path


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("outdir")
    p.add_argument("name")
    p.add_argument("versions", nargs="*")
    p.add_argument("--payload-bytes", type=int, default=0)
    p.add_argument("--series", nargs=2, metavar=("PREFIX", "COUNT"))
    a = p.parse_args()
    versions = list(a.versions)
    if a.series:
        prefix, count = a.series[0], int(a.series[1])
        versions += [f"{prefix}.{i}" for i in range(count)]
    if not versions:
        p.error("no version given")
    os.makedirs(a.outdir, exist_ok=True)
    for v in versions:
        print(make_wheel(a.outdir, a.name, v, a.payload_bytes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
