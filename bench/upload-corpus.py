#!/usr/bin/env python3
"""Write the upload benchmark's corpus: many small wheels over several projects.

Every wheel comes from mkwheel.py (valid, strict, RECORD hashes correct), with
an incompressible payload so a "10 KiB wheel" really is about 10 KiB on the
wire. Projects are named PREFIX-NNN; each gets versions 1.0.0 .. 1.0.(V-1).

Usage:
  upload-corpus.py OUTDIR PREFIX PROJECTS VERSIONS [--payload-bytes N]
Prints the number of wheels written.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkwheel  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("outdir")
    p.add_argument("prefix")
    p.add_argument("projects", type=int)
    p.add_argument("versions", type=int)
    p.add_argument("--payload-bytes", type=int, default=9 * 1024)
    a = p.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    written = 0
    for i in range(a.projects):
        for v in range(a.versions):
            mkwheel.make_wheel(a.outdir, f"{a.prefix}-{i:03d}", f"1.0.{v}", a.payload_bytes)
            written += 1
    print(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
